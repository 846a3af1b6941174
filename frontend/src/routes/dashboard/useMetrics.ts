// A metrics question asked again whenever the live feed moves (at most every THROTTLE_MS), the
// previous answer kept on screen meanwhile: charts update in place, they never blank.
import type { Client } from "@urql/core";
import { useEffect, useRef, useState } from "react";
import type { MetricRow } from "./model";

export const THROTTLE_MS = 1500;

/** `value`, changing at most once per `ms` (the last change always comes through). */
export function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      setShown(value);
      return;
    }
    const timer = setTimeout(() => {
      last.current = Date.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return shown;
}

export interface MetricsState { rows: MetricRow[] | null; error: unknown; retry: () => void }

export function useMetrics(client: Client, query: string, variables: Record<string, unknown> | null, version: number): MetricsState {
  const key = variables ? JSON.stringify(variables) : null;
  const tick = useThrottled(version, THROTTLE_MS);
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<{ key: string | null; rows: MetricRow[] | null; error: unknown }>({ key: null, rows: null, error: null });
  useEffect(() => {
    if (key === null) return;
    let live = true;
    void client
      .query<{ metrics: MetricRow[] }>(query, JSON.parse(key), { requestPolicy: "network-only" })
      .toPromise()
      .then((result) => {
        if (!live) return;
        if (result.error) setState((s) => ({ key, rows: s.key === key ? s.rows : null, error: result.error }));
        else setState({ key, rows: result.data?.metrics ?? [], error: null });
      });
    return () => {
      live = false;
    };
  }, [client, query, key, tick, attempt]);
  if (key === null) return { rows: [], error: null, retry: () => undefined };
  const current = state.key === key;
  return { rows: current ? state.rows : null, error: current ? state.error : null, retry: () => setAttempt((n) => n + 1) };
}
