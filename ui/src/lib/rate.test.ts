import { describe, expect, it } from "vitest";
import { RateMeter, formatDuration } from "./rate";

describe("RateMeter", () => {
  it("knows no rate from one sample", () => {
    const m = new RateMeter();
    m.push(100, 0);
    expect(m.rate()).toBeNull();
    expect(m.eta(1000)).toBeNull();
  });

  it("measures bytes per second and the time left", () => {
    const m = new RateMeter();
    m.push(0, 0);
    m.push(1_000_000, 1000);
    m.push(2_000_000, 2000);
    expect(m.rate()).toBe(1_000_000);
    expect(m.eta(10_000_000)).toBe(8);
  });

  it("starts over when a new stage counts from zero", () => {
    const m = new RateMeter();
    m.push(0, 0);
    m.push(5_000, 1000);
    m.push(10, 1500);
    expect(m.rate()).toBeNull();
  });
});

describe("formatDuration", () => {
  it("reads as an officer would say it", () => {
    expect(formatDuration(12)).toBe("12 s");
    expect(formatDuration(95)).toBe("1 min 35 s");
    expect(formatDuration(3 * 3600 + 120)).toBe("3 h 2 min");
    expect(formatDuration(null)).toBe("");
  });
});
