import { describe, expect, it } from "vitest";
import type { Graph } from "./graph";
import { historyReducer, initialHistory, LIMIT, type History } from "./history";

const g = (n: number): Graph => ({ nodes: [{ id: `n${n}`, type: "flow", position: { x: n, y: 0 }, data: { kind: "end", config: {} } }], edges: [] });
const run = (state: History, ...actions: Parameters<typeof historyReducer>[1][]) => actions.reduce(historyReducer, state);

describe("undo/redo", () => {
  it("undoes and redoes recorded changes; a new change clears the redo list", () => {
    let s = run(initialHistory(g(0)), { type: "change", graph: g(1) }, { type: "change", graph: g(2) });
    s = run(s, { type: "undo" });
    expect(s.present).toEqual(g(1));
    s = run(s, { type: "undo" }, { type: "undo" });
    expect(s.present).toEqual(g(0));
    s = run(s, { type: "redo" });
    expect(s.present).toEqual(g(1));
    expect(s.future).toHaveLength(1);
    s = run(s, { type: "change", graph: g(5) });
    expect(s.future).toHaveLength(0);
    expect(run(s, { type: "redo" }).present).toEqual(g(5));
  });

  it("a drag is one step, from where it began", () => {
    let s = run(initialHistory(g(0)), { type: "change", graph: g(1), mode: "transient" }, { type: "change", graph: g(2), mode: "transient" }, { type: "commit" });
    expect(s.past).toEqual([g(0)]);
    s = run(s, { type: "undo" });
    expect(s.present).toEqual(g(0));
  });

  it("undo in the middle of a drag goes back to where it began", () => {
    const s = run(initialHistory(g(0)), { type: "change", graph: g(1), mode: "transient" }, { type: "undo" });
    expect(s.present).toEqual(g(0));
    expect(s.pending).toBeNull();
  });

  it("silent changes (measuring) are never a step", () => {
    const s = run(initialHistory(g(0)), { type: "change", graph: g(1), mode: "silent" });
    expect(s.past).toHaveLength(0);
    expect(s.present).toEqual(g(1));
  });

  it("typing in one field is one step; another field starts another", () => {
    let s = run(initialHistory(g(0)),
      { type: "change", graph: g(1), coalesce: "a:text" },
      { type: "change", graph: g(2), coalesce: "a:text" },
      { type: "change", graph: g(3), coalesce: "a:text" });
    expect(s.past).toEqual([g(0)]);
    s = run(s, { type: "change", graph: g(4), coalesce: "a:variable" });
    expect(s.past).toEqual([g(0), g(3)]);
    expect(run(s, { type: "undo" }, { type: "undo" }).present).toEqual(g(0));
  });

  it("bumps the epoch when undo, redo or reset replace the graph, and keeps at most LIMIT steps", () => {
    let s = initialHistory(g(0));
    for (let i = 1; i <= LIMIT + 20; i += 1) s = run(s, { type: "change", graph: g(i) });
    expect(s.past).toHaveLength(LIMIT);
    const epoch = s.epoch;
    s = run(s, { type: "undo" }, { type: "redo" });
    expect(s.epoch).toBe(epoch + 2);
    expect(run(s, { type: "reset", graph: g(0) })).toMatchObject({ past: [], future: [], present: g(0) });
  });
});
