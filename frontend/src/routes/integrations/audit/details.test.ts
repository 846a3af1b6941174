import { describe, expect, it } from "vitest";
import { changes, dayStart } from "./details";

describe("audit details", () => {
  it("lists only the fields that changed between before and after, nested keys joined", () => {
    const rows = changes({
      before: { name: "Sales", config: { token: "***", phone: "1" } },
      after: { name: "Sales BR", config: { token: "***", phone: "2", region: "br" } },
    });
    expect(rows).toEqual([
      { field: "config.phone", before: "1", after: "2" },
      { field: "config.region", before: undefined, after: "br" },
      { field: "name", before: "Sales", after: "Sales BR" },
    ]);
  });
  it("keeps what sits beside before and after", () => {
    expect(changes({ before: null, after: { a: 1 }, reason: "x" })).toEqual([
      { field: "a", before: undefined, after: "1" },
      { field: "reason", value: "x" },
    ]);
  });
  it("shows plain details field by field, arrays as JSON", () => {
    expect(changes({ field: "apiKeys", outcome: "ok", scopes: ["a", "b"] })).toEqual([
      { field: "field", value: "apiKeys" },
      { field: "outcome", value: "ok" },
      { field: "scopes", value: '["a","b"]' },
    ]);
    expect(changes({})).toEqual([]);
    expect(changes(null)).toEqual([]);
  });
  it("turns a day into the instant it starts, the next one for an inclusive end", () => {
    expect(dayStart("2026-12-05")).toBe(new Date(2026, 11, 5).toISOString());
    expect(dayStart("2026-12-31", 1)).toBe(new Date(2027, 0, 1).toISOString());
    expect(dayStart("")).toBeNull();
  });
});
