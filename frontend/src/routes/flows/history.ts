// Undo/redo over the graph. A change is recorded (one undo step), transient (a node being
// dragged: recorded once, at `commit`, as one step from where the drag began) or silent (React
// Flow measuring nodes). Changes sharing a `coalesce` key in a row (typing in one field) are one step.
import type { Graph } from "./graph";

export const LIMIT = 100;

export interface History {
  past: Graph[];
  present: Graph;
  future: Graph[];
  /** The graph before a transient change began. */
  pending: Graph | null;
  lastKey: string | null;
  /** Bumped when undo, redo or reset replace the graph (forms showing it start again). */
  epoch: number;
}

export type HistoryAction =
  | { type: "change"; graph: Graph; mode?: "record" | "transient" | "silent"; coalesce?: string }
  | { type: "commit" }
  | { type: "undo" }
  | { type: "redo" }
  | { type: "reset"; graph: Graph };

export const initialHistory = (graph: Graph): History => ({ past: [], present: graph, future: [], pending: null, lastKey: null, epoch: 0 });

const push = (past: Graph[], graph: Graph) => [...past, graph].slice(-LIMIT);

export function historyReducer(state: History, action: HistoryAction): History {
  switch (action.type) {
    case "change": {
      const mode = action.mode ?? "record";
      if (mode === "silent") return { ...state, present: action.graph };
      if (mode === "transient") return { ...state, present: action.graph, pending: state.pending ?? state.present, lastKey: null };
      const key = action.coalesce ?? null;
      if (key && key === state.lastKey && !state.pending) return { ...state, present: action.graph, future: [] };
      return { ...state, past: push(state.past, state.pending ?? state.present), present: action.graph, future: [], pending: null, lastKey: key };
    }
    case "commit":
      if (!state.pending) return state;
      return { ...state, past: push(state.past, state.pending), future: [], pending: null, lastKey: null };
    case "undo": {
      const settled = historyReducer(state, { type: "commit" });
      const previous = settled.past[settled.past.length - 1];
      if (!previous) return settled;
      return { ...settled, past: settled.past.slice(0, -1), present: previous, future: [settled.present, ...settled.future], lastKey: null, epoch: state.epoch + 1 };
    }
    case "redo": {
      const [next, ...rest] = state.future;
      if (!next) return state;
      return { ...state, past: push(state.past, state.present), present: next, future: rest, pending: null, lastKey: null, epoch: state.epoch + 1 };
    }
    case "reset":
      return { ...initialHistory(action.graph), epoch: state.epoch + 1 };
  }
}
