import { describe, expect, it } from "vitest";
import { attributeProblem, unsettled, withPending } from "./attributes";

const at = "2026-12-05T10:00:00Z";

describe("customer attributes", () => {
  it("checks names and values as the server does", () => {
    expect(attributeProblem({ name: "plan", value: "gold" })).toBeNull();
    expect(attributeProblem({ name: "_x9", value: "x".repeat(4096) })).toBeNull();
    expect(attributeProblem({ name: "a".repeat(40), value: "x" })).toBeNull();
    for (const name of ["Plan", "1st", "has space", "", "a".repeat(41), "ção"]) {
      expect(attributeProblem({ name, value: "x" })).toEqual({ field: "name", key: "attrErrors.name" });
    }
    expect(attributeProblem({ name: "plan", value: "   " })).toEqual({ field: "value", key: "attrErrors.empty" });
    expect(attributeProblem({ name: "plan", value: "x".repeat(4097) })).toEqual({ field: "value", key: "attrErrors.long" });
  });

  it("shows pending changes over the server's attributes until the server agrees", () => {
    const server = [{ name: "city", value: "Recife", updatedAt: at }, { name: "plan", value: "gold", updatedAt: at }];
    const pending = { plan: "platinum", city: null, order: "A-1" };
    expect(withPending(server, pending).map((a) => [a.name, a.value, a.pending])).toEqual([
      ["order", "A-1", true],
      ["plan", "platinum", true],
    ]);
    expect(unsettled(server, pending)).toEqual(pending);
    const after = [{ name: "order", value: "A-1", updatedAt: at }, { name: "plan", value: "platinum", updatedAt: at }];
    expect(unsettled(after, pending)).toEqual({});
    expect(unsettled([{ name: "plan", value: "platinum", updatedAt: at }], pending)).toEqual({ order: "A-1" });
  });
});
