// Subscriptions over graphql-transport-ws. Each subscription remembers the cursor of the last
// event it applied and resumes after it when the socket reconnects, so nothing is missed.
import { createClient, type Client } from "graphql-ws";
import type { Session } from "./session";

export function liveClient(session: Session): Client {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return createClient({
    url: `${scheme}://${location.host}/graphql`,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: async () => {
      const token = await session.accessToken();
      return token ? { authorization: `Bearer ${token}` } : {};
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
}

/** Subscribe, and on every (re)connection resubscribe from the last applied cursor. */
export function follow<E extends { cursor: string }>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  onEvent: (event: E) => void,
  onError: (message: string) => void,
  field: string,
): () => void {
  const tracker = new CursorTracker((variables.after as string | undefined) ?? null);
  let stop: (() => void) | null = null;
  let closed = false;
  const start = () => {
    stop = client.subscribe<Record<string, E>>(
      { query, variables: { ...variables, after: tracker.after } },
      {
        next: (result) => {
          if (result.errors?.length) return onError(result.errors[0].message);
          const event = result.data?.[field];
          if (event && tracker.advance(event.cursor)) onEvent(event);
        },
        error: () => {
          if (!closed) setTimeout(start, 1000); // resume after the last cursor
        },
        complete: () => undefined,
      },
    );
  };
  start();
  return () => {
    closed = true;
    stop?.();
  };
}
