// The inbox's bulk selection: which conversations are ticked, and what the last bulk change could
// not do to each (shown on its row until the selection changes).
import { create } from "zustand";

export interface RowError { code: string; message: string }

interface SelectionState {
  ids: string[];
  errors: Record<string, RowError>;
  /** How many the last bulk change changed (null: none since the selection changed). */
  updated: number | null;
  toggle(id: string): void;
  set(ids: string[]): void;
  clear(): void;
  /** After a bulk change: the failed rows stay ticked with their error, the rest are let go. */
  settle(updated: number, errors: Record<string, RowError>): void;
}

export const useSelection = create<SelectionState>((set) => ({
  ids: [],
  errors: {},
  updated: null,
  toggle: (id) => set((s) => ({ ids: s.ids.includes(id) ? s.ids.filter((x) => x !== id) : [...s.ids, id], errors: {}, updated: null })),
  set: (ids) => set({ ids, errors: {}, updated: null }),
  clear: () => set({ ids: [], errors: {}, updated: null }),
  settle: (updated, errors) => set({ ids: Object.keys(errors), errors, updated }),
}));
