// The dashboard's live feed: `dashboardUpdates` sends the current numbers at once and again on every
// change. It has no cursor (each update is the whole picture), so a dropped subscription simply
// subscribes again, backing off like src/api/live.ts's follow().
import type { Client } from "graphql-ws";
import { useEffect, useState } from "react";
import { RESUBSCRIBE_MAX_MS, RESUBSCRIBE_MIN_MS } from "@/api/live";
import { DASHBOARD_UPDATES } from "@/api/ops/dashboard";
import type { TeamLoad } from "./model";

export interface DurationKpi { count: number; avg: number | null; median: number | null; p90: number | null; p95: number | null }
export interface DashboardUpdate {
  at: string;
  slaBreaches: number;
  alertsOpen: number | null;
  teams: TeamLoad[];
  kpis: {
    since: string;
    resolutions: number;
    resolutionRate: number | null;
    messagesIn: number;
    messagesOut: number;
    conversationsStarted: number;
    csatResponses: number;
    csatAverage: number | null;
    csatSatisfiedShare: number | null;
    firstResponseTime: DurationKpi;
    resolutionTime: DurationKpi;
  };
}

type ErrorLike = { message: string; extensions?: { code?: unknown } };
const PERMANENT = new Set(["FORBIDDEN", "UNAUTHENTICATED"]);

/** Keep `onUpdate` fed until the returned function is called. */
export function followDashboard(client: Client, onUpdate: (u: DashboardUpdate) => void, onError: (error: ErrorLike) => void): () => void {
  let closed = false;
  let delay = RESUBSCRIBE_MIN_MS;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let dispose: (() => void) | null = null;
  const again = () => {
    dispose = null;
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = null;
      start();
    }, delay * (0.5 + Math.random() / 2));
    delay = Math.min(delay * 2, RESUBSCRIBE_MAX_MS);
  };
  const start = () => {
    if (closed) return;
    let ended = false;
    const stop = client.subscribe<{ dashboardUpdates: DashboardUpdate }>(
      { query: DASHBOARD_UPDATES },
      {
        next: (result) => {
          const errors = (result.errors ?? []) as ErrorLike[];
          if (errors.length) {
            onError(errors[0]);
            if (PERMANENT.has(String(errors[0].extensions?.code))) closed = true;
            return;
          }
          if (result.data?.dashboardUpdates) {
            delay = RESUBSCRIBE_MIN_MS;
            onUpdate(result.data.dashboardUpdates);
          }
        },
        error: () => {
          ended = true;
          again();
        },
        complete: () => {
          ended = true;
          again();
        },
      },
    );
    dispose = () => {
      if (!ended) stop();
    };
  };
  start();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    dispose?.();
  };
}

/** The latest update, how many have come (the metrics refetch when it moves) and the last error. */
export function useDashboardUpdates(client: Client) {
  const [state, setState] = useState<{ update: DashboardUpdate | null; version: number; error: ErrorLike | null }>({ update: null, version: 0, error: null });
  useEffect(
    () =>
      followDashboard(
        client,
        (update) => setState((s) => ({ update, version: s.version + 1, error: null })),
        (error) => setState((s) => ({ ...s, error })),
      ),
    [client],
  );
  return state;
}
