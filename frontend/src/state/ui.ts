// Local UI state (Zustand): filters, the link's state, the composer's mode, the help dialog.
import { create } from "zustand";
import type { LinkState } from "../api/live";
import { DEFAULT_FILTER, type InboxFilter } from "./filters";

interface UiState {
  filter: InboxFilter;
  link: LinkState;
  helpOpen: boolean;
  /** Bumped to ask the composer (r) or the search box (/) for focus. */
  focusComposer: number;
  focusSearch: number;
  toast: { message: string; code?: string } | null;
  setFilter(patch: Partial<InboxFilter>): void;
  setLink(link: LinkState): void;
  setHelp(open: boolean): void;
  requestComposer(): void;
  requestSearch(): void;
  showError(message: string, code?: string): void;
  dismiss(): void;
}

export const useUi = create<UiState>((set) => ({
  filter: DEFAULT_FILTER,
  link: "connecting",
  helpOpen: false,
  focusComposer: 0,
  focusSearch: 0,
  toast: null,
  setFilter: (patch) => set((s) => ({ filter: { ...s.filter, ...patch } })),
  setLink: (link) => set({ link }),
  setHelp: (helpOpen) => set({ helpOpen }),
  requestComposer: () => set((s) => ({ focusComposer: s.focusComposer + 1 })),
  requestSearch: () => set((s) => ({ focusSearch: s.focusSearch + 1 })),
  showError: (message, code) => set({ toast: { message, code } }),
  dismiss: () => set({ toast: null }),
}));
