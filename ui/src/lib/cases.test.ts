import { describe, expect, it } from "vitest";
import { fieldError, STATUS_LABELS } from "./cases";

describe("fieldError", () => {
  const err = { code: "case_number_invalid", message: "bad number", field: "number" };
  it("shows the message only beside the field it is about", () => {
    expect(fieldError(err, "number")).toBe("bad number");
    expect(fieldError(err, "title")).toBeNull();
    expect(fieldError(null, "number")).toBeNull();
  });
  it("ignores errors that name no field", () => {
    expect(fieldError({ code: "busy", message: "busy", field: null }, "number")).toBeNull();
  });
});

describe("STATUS_LABELS", () => {
  it("names every status of the state machine", () => {
    expect(Object.keys(STATUS_LABELS)).toEqual(["open", "under_investigation", "closed", "archived"]);
  });
});
