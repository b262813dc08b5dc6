import type { CaseStatus, NewCase, PublicError } from "../bindings";

export const STATUS_LABELS: Record<CaseStatus, string> = {
  open: "Open",
  under_investigation: "Under investigation",
  closed: "Closed",
  archived: "Archived",
};

export function emptyNewCase(): NewCase {
  return { number: "", title: "", description: "", officer: "", badge: "", status: null };
}

/** The message to show beside `field`, when the last error was about it. */
export function fieldError(error: PublicError | null, field: string): string | null {
  if (!error || error.field !== field) return null;
  return error.message;
}
