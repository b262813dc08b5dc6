// Presentation helpers: how sizes, progress and times read to an officer.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1234567 → "1.2 MB" (decimal units, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** Percentage 0–100 of a progress event, or null while the total is unknown. */
export function percent(done: number, total: number | null): number | null {
  if (total === null || total <= 0) return null;
  return Math.max(0, Math.min(100, Math.round((done / total) * 100)));
}

/** "just now", "5 minutes ago", "3 hours ago", "2 days ago"; future times read "in …". */
export function relativeTime(then: Date, now: Date = new Date()): string {
  const seconds = Math.round((now.getTime() - then.getTime()) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  if (s < 45) return "just now";
  const steps: [number, string][] = [
    [60, "minute"],
    [3600, "hour"],
    [86400, "day"],
    [86400 * 30, "month"],
    [86400 * 365, "year"],
  ];
  let chosen = steps[0];
  for (const step of steps) if (s >= step[0] * 0.75) chosen = step;
  const n = Math.max(1, Math.round(s / chosen[0]));
  const label = `${n} ${chosen[1]}${n === 1 ? "" : "s"}`;
  return future ? `in ${label}` : `${label} ago`;
}

/** Human names of job stages, as the progress bar shows them. */
const STAGES: Record<string, string> = {
  folders: "Checking station folders",
  disk_write: "Writing test data to disk",
  disk_read: "Reading it back",
  keyring: "Asking the OS keyring",
  snapshot: "Taking a consistent snapshot of the registry",
  integrity: "Checking the snapshot page by page",
  compress: "Compressing and encrypting",
  encrypt: "Compressing and encrypting",
  write: "Writing the backup file",
  verify: "Verifying the stored backup",
  upload: "Uploading",
  download: "Downloading",
  cloud_upload: "Uploading to the cloud",
  retention: "Applying retention",
  seal: "Sealing documents",
  hash: "Computing SHA-256",
  file: "Files done",
  decrypt: "Decrypting and checking every chunk",
  check: "Checking the restored registry",
  safety_copy: "Keeping a safety copy of the live registry",
  swap: "Putting the restored registry in place",
  carry_forward: "Carrying later audit records forward",
  resumed: "Resuming from the parts already stored",
};

export function stageLabel(stage: string): string {
  return STAGES[stage] ?? stage.replace(/_/g, " ");
}

/** An RFC 3339 time as "3 hours ago", or "—" when absent. */
export function ago(time: string | null | undefined): string {
  if (!time) return "—";
  const d = new Date(time);
  return Number.isNaN(d.getTime()) ? time : relativeTime(d);
}

/** 1 → "1 case", 3 → "3 cases". */
export function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
