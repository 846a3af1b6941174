import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Client } from "graphql-ws";
import { follow, RESUBSCRIBE_MAX_MS, RESUBSCRIBE_MIN_MS } from "./live";

type Sink = {
  next: (result: { data?: Record<string, unknown>; errors?: unknown[] }) => void;
  error: (error: unknown) => void;
  complete: () => void;
};

/** A graphql-ws client that records each subscription: its variables, its sink, and whether the
 * caller disposed of it. */
function fakeClient() {
  const subs: { variables: Record<string, unknown>; sink: Sink; disposed: boolean }[] = [];
  const client = {
    subscribe(payload: { variables: Record<string, unknown> }, sink: Sink) {
      const sub = { variables: payload.variables, sink, disposed: false };
      subs.push(sub);
      return () => {
        sub.disposed = true;
      };
    },
  } as unknown as Client;
  return { client, subs };
}

const event = (cursor: string) => ({ data: { inboxEvents: { cursor, kind: "X" } } });

function start(client: Client, after?: string) {
  const seen: string[] = [];
  const errors: string[] = [];
  const stop = follow<{ cursor: string }>(
    client,
    "subscription",
    after ? { after } : {},
    (e) => seen.push(e.cursor),
    (m) => errors.push(m),
    "inboxEvents",
  );
  return { seen, errors, stop };
}

describe("follow", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("subscribes again after the server completes, from the last applied cursor", () => {
    const { client, subs } = fakeClient();
    const { seen } = start(client, "3");
    expect(subs[0].variables.after).toBe("3");
    subs[0].sink.next(event("4"));
    subs[0].sink.next(event("5"));
    subs[0].sink.complete();
    expect(subs).toHaveLength(1); // not at once: after a backoff
    vi.advanceTimersByTime(RESUBSCRIBE_MIN_MS);
    expect(subs).toHaveLength(2);
    expect(subs[1].variables.after).toBe("5");
    subs[1].sink.next(event("5")); // the replay overlapping what was applied is not applied twice
    subs[1].sink.next(event("6"));
    expect(seen).toEqual(["4", "5", "6"]);
  });

  it("subscribes again after an error, backing off while the failures go on", () => {
    const { client, subs } = fakeClient();
    start(client);
    const waits: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const before = subs.length;
      subs[before - 1].sink.error(new Error("socket closed"));
      let waited = 0;
      while (subs.length === before) {
        vi.advanceTimersByTime(50);
        waited += 50;
        expect(waited).toBeLessThanOrEqual(RESUBSCRIBE_MAX_MS);
      }
      waits.push(waited);
    }
    expect(waits[3]).toBeGreaterThan(waits[0]); // 0.5 s doubling, with jitter of at most half
    expect(Math.max(...waits)).toBeLessThanOrEqual(RESUBSCRIBE_MAX_MS);
    expect(subs.every((s) => s.variables.after === null)).toBe(true); // no event yet: live from now
  });

  it("reports a retryable error, drops that subscription and subscribes again", () => {
    const { client, subs } = fakeClient();
    const { errors } = start(client, "7");
    subs[0].sink.next({ errors: [{ message: "database unavailable", extensions: { code: "SERVICE_UNAVAILABLE" } }] });
    expect(errors).toEqual(["database unavailable"]);
    expect(subs[0].disposed).toBe(true);
    vi.advanceTimersByTime(RESUBSCRIBE_MIN_MS);
    expect(subs).toHaveLength(2);
    expect(subs[1].variables.after).toBe("7");
    subs[0].sink.complete(); // a late end of the replaced subscription changes nothing
    vi.advanceTimersByTime(RESUBSCRIBE_MAX_MS);
    expect(subs).toHaveLength(2);
  });

  it("gives up on an error a new subscription would get again", () => {
    const { client, subs } = fakeClient();
    const { errors } = start(client);
    subs[0].sink.next({ errors: [{ message: "not yours", extensions: { code: "FORBIDDEN" } }] });
    subs[0].sink.complete();
    vi.advanceTimersByTime(RESUBSCRIBE_MAX_MS * 2);
    expect(subs).toHaveLength(1);
    expect(errors).toEqual(["not yours"]);
  });

  it("stops for good when the caller stops, even with a resubscribe pending", () => {
    const { client, subs } = fakeClient();
    const { stop } = start(client);
    subs[0].sink.complete();
    stop();
    vi.advanceTimersByTime(RESUBSCRIBE_MAX_MS * 2);
    expect(subs).toHaveLength(1);

    const second = fakeClient();
    const running = start(second.client);
    running.stop();
    expect(second.subs[0].disposed).toBe(true);
    second.subs[0].sink.complete();
    vi.advanceTimersByTime(RESUBSCRIBE_MAX_MS * 2);
    expect(second.subs).toHaveLength(1);
  });
});

describe("follow after an expired cursor", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("goes on live from now and asks the screen to reload, instead of retrying the dead cursor", () => {
    const { client, subs } = fakeClient();
    let gaps = 0;
    const seen: string[] = [];
    follow<{ cursor: string }>(client, "subscription", { after: "12" }, (e) => seen.push(e.cursor), () => undefined, "inboxEvents", () => {
      gaps += 1;
    });
    subs[0].sink.next({ errors: [{ message: "too old", extensions: { code: "CURSOR_EXPIRED" } }] });
    expect(gaps).toBe(1);
    vi.advanceTimersByTime(RESUBSCRIBE_MIN_MS);
    expect(subs).toHaveLength(2);
    expect(subs[1].variables.after).toBeNull();
    subs[1].sink.next(event("3")); // a new stream position, lower than the dead cursor: applied
    expect(seen).toEqual(["3"]);
  });
});
