import { describe, expect, it } from "vitest";
import { count, formatBytes, percent, relativeTime, stageLabel } from "./format";

describe("formatBytes", () => {
  it("uses decimal units with one decimal below 100", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1234567)).toBe("1.2 MB");
    expect(formatBytes(48_000_000)).toBe("48.0 MB");
    expect(formatBytes(512_000_000)).toBe("512 MB");
  });
  it("refuses nonsense", () => {
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
  });
});

describe("percent", () => {
  it("is null while the total is unknown", () => {
    expect(percent(5, null)).toBeNull();
    expect(percent(5, 0)).toBeNull();
  });
  it("clamps to 0..100", () => {
    expect(percent(50, 200)).toBe(25);
    expect(percent(300, 200)).toBe(100);
  });
});

describe("relativeTime", () => {
  const now = new Date("2026-12-03T12:00:00Z");
  it("reads like a person would say it", () => {
    expect(relativeTime(new Date("2026-12-03T11:59:50Z"), now)).toBe("just now");
    expect(relativeTime(new Date("2026-12-03T11:55:00Z"), now)).toBe("5 minutes ago");
    expect(relativeTime(new Date("2026-12-03T09:00:00Z"), now)).toBe("3 hours ago");
    expect(relativeTime(new Date("2026-12-01T12:00:00Z"), now)).toBe("2 days ago");
    expect(relativeTime(new Date("2026-12-03T15:00:00Z"), now)).toBe("in 3 hours");
  });
});

describe("stageLabel", () => {
  it("names known stages and falls back to the raw name", () => {
    expect(stageLabel("disk_write")).toBe("Writing test data to disk");
    expect(stageLabel("upload_parts")).toBe("upload parts");
  });
});

describe("count", () => {
  it("uses the singular for one", () => {
    expect(count(1, "case")).toBe("1 case");
    expect(count(0, "case")).toBe("0 cases");
    expect(count(3, "audit record")).toBe("3 audit records");
  });
});
