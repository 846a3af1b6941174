// A screen's data: one query, always from the network (these lists change by mutations elsewhere
// too), with loading, error and a reload for after a mutation or a retry.
import { useCallback, useEffect, useState } from "react";
import type { QueryState } from "@/components/ListScaffold";
import { useServices } from "@/services";

/** A QueryState (for ListScaffold) whose reload can be awaited. */
export interface AdminData<T> extends QueryState<T> { data: T | null; reload: () => Promise<void> }

export function useAdminData<T>(query: string, variables: Record<string, unknown> = {}): AdminData<T> {
  const { client } = useServices();
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const key = JSON.stringify(variables);
  const reload = useCallback(async () => {
    setState((s) => ({ ...s, loading: true }));
    const r = await client.query<T>(query, JSON.parse(key) as Record<string, unknown>, { requestPolicy: "network-only" }).toPromise();
    setState({ data: r.data ?? null, error: r.error ?? null, loading: false });
  }, [client, query, key]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { ...state, reload, retry: () => void reload() };
}

/** Runs a mutation; resolves to its data, or throws its error (urql's CombinedError). */
export function useMutate() {
  const { client } = useServices();
  return useCallback(
    async <T,>(document: string, variables: Record<string, unknown>): Promise<T> => {
      const r = await client.mutation<T>(document, variables).toPromise();
      if (r.error || !r.data) throw r.error ?? new Error("no data");
      return r.data;
    },
    [client],
  );
}
