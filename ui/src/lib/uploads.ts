// The upload list of a case: one row per file with its own progress, built from the job's
// progress events (which carry the item index of the file they are about).
import type { Document, ProgressEvent } from "../bindings";

export type FileState = "queued" | "hashing" | "uploading" | "stored" | "paused" | "failed";

export interface FileRow {
  path: string;
  name: string;
  state: FileState;
  done: number;
  total: number | null;
  sha256: string | null;
}

export interface UploadJob {
  job: string;
  case: string;
  files: FileRow[];
  running: boolean;
  overallDone: number;
  overallTotal: number | null;
  error: string | null;
}

export function baseName(path: string): string {
  const parts = path.split(/[/\\]/);
  return parts[parts.length - 1] || path;
}

export function newJob(job: string, caseNumber: string, paths: string[]): UploadJob {
  return {
    job,
    case: caseNumber,
    running: false,
    overallDone: 0,
    overallTotal: null,
    error: null,
    files: paths.map((p) => ({ path: p, name: baseName(p), state: "queued", done: 0, total: null, sha256: null })),
  };
}

/** Applies one progress event of the job to its rows. */
export function applyEvent(job: UploadJob, e: ProgressEvent): void {
  const row = e.item ? job.files[e.item.index] : undefined;
  if (e.stage === "hash" && row && e.item) {
    row.state = "hashing";
    row.done = e.item.done;
    row.total = e.item.total;
  } else if (e.stage === "upload") {
    job.overallDone = e.done;
    job.overallTotal = e.total;
    if (row && e.item) {
      row.state = e.item.total !== null && e.item.done >= e.item.total ? "stored" : "uploading";
      row.done = e.item.done;
      row.total = e.item.total;
    }
  } else if (e.stage === "file" && e.total !== null && e.done >= e.total) {
    job.overallDone = job.overallTotal ?? job.overallDone;
  }
}

/** The job's result: every row stored with the hash the registry recorded. */
export function applyResult(job: UploadJob, docs: Document[]): void {
  docs.forEach((d, i) => {
    const row = job.files[i];
    if (!row) return;
    row.state = "stored";
    row.sha256 = d.sha256;
    row.total = d.size;
    row.done = d.size;
  });
  job.running = false;
  job.error = null;
}

/** A paused or failed job: rows not stored take that state. */
export function applyStop(job: UploadJob, state: "paused" | "failed", error: string | null): void {
  for (const row of job.files) if (row.state !== "stored" || row.sha256 === null) row.state = state;
  job.running = false;
  job.error = error;
}
