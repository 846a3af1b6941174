// The inbox's full-text search (the `search` query): the hits for the text in the search box and
// the filters, best first, with the message that matched.
import { create } from "zustand";
import type { SearchQuery } from "../api/graphql.generated";

export type Hit = SearchQuery["search"]["edges"][number];

interface SearchState {
  key: string; // the query and filter these hits answer
  hits: Hit[];
  endCursor: string | null;
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  start(key: string): void;
  loaded(key: string, hits: Hit[], endCursor: string | null, hasMore: boolean, append: boolean): void;
  failed(key: string, error: unknown): void;
}

export const useSearch = create<SearchState>((set) => ({
  key: "",
  hits: [],
  endCursor: null,
  hasMore: false,
  loading: false,
  error: null,
  start: (key) => set((s) => (s.key === key ? { loading: true } : { key, hits: [], endCursor: null, hasMore: false, loading: true, error: null })),
  loaded: (key, hits, endCursor, hasMore, append) =>
    set((s) => (s.key !== key ? {} : { hits: append ? [...s.hits, ...hits.filter((h) => !s.hits.some((x) => x.node.id === h.node.id))] : hits, endCursor, hasMore, loading: false, error: null })),
  failed: (key, error) => set((s) => (s.key !== key ? {} : { error, loading: false })),
}));

/** Search runs for two characters or more; less filters nothing. */
export const searching = (text: string) => text.trim().length >= 2;
