// Transfer rate and time left of a running job, from its progress events.

export class RateMeter {
  private samples: { t: number; done: number }[] = [];
  constructor(private windowMs = 3000) {}

  /** Records that `done` bytes were done at time `t` (ms). */
  push(done: number, t: number = Date.now()): void {
    const last = this.samples[this.samples.length - 1];
    if (last && done < last.done) this.samples = []; // a new stage started over
    this.samples.push({ t, done });
    while (this.samples.length > 2 && t - this.samples[0].t > this.windowMs) this.samples.shift();
  }

  /** Bytes per second over the recent window, or null until two samples exist. */
  rate(): number | null {
    if (this.samples.length < 2) return null;
    const a = this.samples[0];
    const b = this.samples[this.samples.length - 1];
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) return null;
    return (b.done - a.done) / dt;
  }

  /** Seconds left to reach `total` at the current rate, or null when unknown. */
  eta(total: number | null): number | null {
    const r = this.rate();
    const last = this.samples[this.samples.length - 1];
    if (r === null || r <= 0 || total === null || !last) return null;
    return Math.max(0, (total - last.done) / r);
  }
}

/** 95 → "1 min 35 s", 12 → "12 s". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
