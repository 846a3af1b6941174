// Subscriptions over graphql-transport-ws. Each subscription remembers the cursor of the last
// event it applied and resumes after it when the socket reconnects, so nothing is missed.
import { createClient, type Client } from "graphql-ws";
import type { Session } from "./session";

export type LinkState = "connecting" | "online" | "offline";

export function liveClient(session: Session, onState: (state: LinkState) => void = () => {}): Client {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return createClient({
    url: `${scheme}://${location.host}/graphql`,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: async (retries) => {
      // 0.5 s doubling to 10 s, with jitter: a restarted server is not hit by every agent at once
      const base = Math.min(500 * 2 ** retries, 10_000);
      await new Promise((resolve) => setTimeout(resolve, base * (0.5 + Math.random() / 2)));
    },
    keepAlive: 10_000, // a ping every 10 s: a dead link is noticed, and the socket re-opened
    connectionParams: async () => {
      const token = await session.accessToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      connecting: () => onState("connecting"),
      connected: () => onState("online"),
      // 1000 is the client's own lazy close when no screen subscribes (settings, templates): the
      // link is fine, just idle. Anything else (1006 dropped, 1012 restart, 44xx) is offline.
      closed: (event) => onState((event as { code?: number } | undefined)?.code === 1000 ? "online" : "offline"),
    },
  });
}

export class CursorTracker {
  private cursor: string | null;
  constructor(initial: string | null = null) {
    this.cursor = initial;
  }
  /** Record an applied event; false for one already applied (a replay overlapping live events). */
  advance(cursor: string): boolean {
    if (this.cursor !== null && BigInt(cursor) <= BigInt(this.cursor)) return false;
    this.cursor = cursor;
    return true;
  }
  get after(): string | null {
    return this.cursor;
  }
  /** Forget the cursor: the next subscription starts live from now. */
  reset(): void {
    this.cursor = null;
  }
}

/** Errors that a new subscription would only get again: give up on these, say why. */
const PERMANENT = new Set(["FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"]);
export const RESUBSCRIBE_MIN_MS = 500;
export const RESUBSCRIBE_MAX_MS = 30_000;

type GraphQLErrorLike = { message: string; extensions?: { code?: unknown } };

/** The server no longer holds the events after our cursor: go on live from now, and let the
 * screen load its state afresh (onGap) instead of retrying a cursor that will never work. */
const GAP = "CURSOR_EXPIRED";

/** Subscribe, and whenever the subscription ends for any reason but ours (the server completed it,
 * it failed, the socket dropped) subscribe again after the last applied cursor, backing off from
 * RESUBSCRIBE_MIN_MS doubling to RESUBSCRIBE_MAX_MS: an agent's screen must never silently stop
 * updating. The backoff starts over once an event arrives. */
export function follow<E extends { cursor: string }>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  onEvent: (event: E) => void,
  onError: (message: string) => void,
  field: string,
  onGap: () => void = () => {},
): () => void {
  const tracker = new CursorTracker((variables.after as string | undefined) ?? null);
  let stop: (() => void) | null = null;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let delay = RESUBSCRIBE_MIN_MS;
  let generation = 0; // a late callback from a subscription already replaced is ignored

  const again = (mine: number) => {
    if (closed || mine !== generation || timer !== null) return;
    generation += 1; // this subscription is over: nothing more from it counts
    stop?.();
    const wait = delay * (0.5 + Math.random() / 2);
    delay = Math.min(delay * 2, RESUBSCRIBE_MAX_MS);
    timer = setTimeout(() => {
      timer = null;
      start();
    }, wait);
  };
  const start = () => {
    if (closed) return;
    const mine = generation;
    let ended = false;
    const dispose = client.subscribe<Record<string, E>>(
      { query, variables: { ...variables, after: tracker.after } },
      {
        next: (result) => {
          if (mine !== generation) return;
          const errors = (result.errors ?? []) as GraphQLErrorLike[];
          if (errors.length) {
            onError(errors[0].message);
            const code = errors[0].extensions?.code;
            if (typeof code === "string" && PERMANENT.has(code)) {
              closed = true; // resubscribing would be refused the same way
              return;
            }
            if (code === GAP) {
              tracker.reset();
              onGap();
            }
            return again(mine); // e.g. SERVICE_UNAVAILABLE: try again after the cursor
          }
          const event = result.data?.[field];
          if (event) delay = RESUBSCRIBE_MIN_MS;
          if (event && tracker.advance(event.cursor)) onEvent(event);
        },
        error: () => {
          ended = true;
          again(mine);
        },
        complete: () => {
          ended = true;
          again(mine);
        },
      },
    );
    stop = () => {
      if (!ended) dispose();
    };
  };
  start();
  return () => {
    closed = true;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    stop?.();
  };
}
