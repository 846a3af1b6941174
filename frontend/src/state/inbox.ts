// The inbox list: pages loaded from the server and live events on top, kept newest first and
// filtered by the same rule the server used (state/filters.ts).
import { create } from "zustand";
import type { Conversation } from "../api/types";
import { applyInboxEvent } from "./reducers";

interface InboxState {
  items: Conversation[];
  /** Every conversation seen, also those the filter hides: the conversation pane reads it. */
  known: Record<string, Conversation>;
  endCursor: string | null;
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  reset(): void;
  loaded(page: Conversation[], endCursor: string | null, hasMore: boolean, keep: (c: Conversation) => boolean): void;
  apply(c: Conversation, keep: (c: Conversation) => boolean): void;
  /** A fresher copy (a mutation's answer): shown at once, the list follows its live event. */
  touch(c: Conversation): void;
  setLoading(loading: boolean): void;
  setError(error: unknown): void;
}

export const useInbox = create<InboxState>((set) => ({
  items: [],
  known: {},
  endCursor: null,
  hasMore: false,
  loading: true,
  error: null,
  reset: () => set({ items: [], endCursor: null, hasMore: false, loading: true, error: null }),
  loaded: (page, endCursor, hasMore, keep) =>
    set((s) => {
      const known = { ...s.known };
      let items = s.items;
      for (const c of page) {
        // a live event newer than this page's copy wins
        const current = known[c.id];
        const fresher = current && (current.lastMessageAt ?? "") > (c.lastMessageAt ?? "") ? current : c;
        known[c.id] = fresher;
        items = applyInboxEvent(items, fresher, keep);
      }
      return { items, known, endCursor, hasMore, loading: false, error: null };
    }),
  apply: (c, keep) => set((s) => ({ items: applyInboxEvent(s.items, c, keep), known: { ...s.known, [c.id]: c } })),
  touch: (c) => set((s) => ({ known: { ...s.known, [c.id]: c }, items: s.items.map((x) => (x.id === c.id ? c : x)) })),
  setLoading: (loading) => set({ loading }),
  setError: (error) => set({ error, loading: false }),
}));

/** Render as you fetch: a signed-in start asks for the inbox's first page before React has even
 * rendered; the list takes that answer instead of asking again (once, for the same filter). */
type FirstPage = { conversations: { edges: { node: Conversation }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
let early: { key: string; page: Promise<FirstPage> } | null = null;

export function prefetchFirstPage(key: string, load: () => Promise<FirstPage>): void {
  early = { key, page: load() };
  early.page.catch(() => undefined); // a failure is the list's to report when it takes the page
}

export function takeFirstPage(key: string): Promise<FirstPage> | null {
  const found = early && early.key === key ? early.page : null;
  early = null;
  return found;
}
