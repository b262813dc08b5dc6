// The screens of the main window, in navigation order.
export type ScreenId = "dashboard" | "cases" | "backups" | "audit" | "settings";

export const SCREENS: { id: ScreenId; label: string }[] = [
  { id: "dashboard", label: "Dashboard" },
  { id: "cases", label: "Cases" },
  { id: "backups", label: "Backups" },
  { id: "audit", label: "Audit" },
  { id: "settings", label: "Settings" },
];
