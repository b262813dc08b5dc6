import { describe, expect, it } from "vitest";
import { applyEvent, applyResult, applyStop, baseName, newJob } from "./uploads";

describe("upload rows", () => {
  it("names files by their last path component", () => {
    expect(baseName("/home/officer/scan 1.pdf")).toBe("scan 1.pdf");
    expect(baseName("C:\\cases\\photo.jpg")).toBe("photo.jpg");
  });

  it("moves each file through hashing and uploading by its item index", () => {
    const job = newJob("upload-1", "2026-000001", ["/a.pdf", "/b.pdf"]);
    applyEvent(job, { stage: "hash", done: 5, total: 10, item: { index: 1, done: 5, total: 10 } });
    expect(job.files[1].state).toBe("hashing");
    expect(job.files[0].state).toBe("queued");
    applyEvent(job, { stage: "upload", done: 30, total: 100, item: { index: 0, done: 30, total: 40 } });
    expect(job.files[0]).toMatchObject({ state: "uploading", done: 30, total: 40 });
    expect([job.overallDone, job.overallTotal]).toEqual([30, 100]);
    applyEvent(job, { stage: "upload", done: 70, total: 100, item: { index: 0, done: 40, total: 40 } });
    expect(job.files[0].state).toBe("stored");
  });

  it("shows the recorded hashes when the job ends, and pauses what is left", () => {
    const job = newJob("upload-1", "2026-000001", ["/a.pdf", "/b.pdf"]);
    applyStop(job, "paused", null);
    expect(job.files.map((f) => f.state)).toEqual(["paused", "paused"]);
    const doc = { id: 1, case: "2026-000001", name: "a.pdf", key: "k", size: 4, sha256: "ab".repeat(32), media_type: "application/pdf", added_by: "x", added_at: "2026-12-04T00:00:00Z", version_id: null };
    applyResult(job, [doc, { ...doc, id: 2, name: "b.pdf", sha256: "cd".repeat(32) }]);
    expect(job.files.map((f) => f.sha256)).toEqual(["ab".repeat(32), "cd".repeat(32)]);
    expect(job.running).toBe(false);
  });
});
