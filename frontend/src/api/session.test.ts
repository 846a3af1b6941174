import { describe, expect, it, vi } from "vitest";
import { CursorTracker } from "./live";
import { GraphQLRequestError, Session, type Storage } from "./session";

class MemoryStorage implements Storage {
  data = new Map<string, string>();
  getItem(k: string) { return this.data.get(k) ?? null; }
  setItem(k: string, v: string) { this.data.set(k, v); }
  removeItem(k: string) { this.data.delete(k); }
}

const user = { id: "VXNlcjox", name: "Alex" };
const payload = (n: number) => ({ accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresIn: 900, user });

function fakeServer() {
  const calls: { query: string; variables: Record<string, string>; auth?: string }[] = [];
  let issued = 1;
  const used = new Set<string>();
  const fetcher = async (_url: string, init: RequestInit) => {
    const body = JSON.parse(init.body as string);
    const auth = (init.headers as Record<string, string>).Authorization;
    calls.push({ query: body.query, variables: body.variables, auth });
    const reply = (data: unknown) => new Response(JSON.stringify(data), { status: 200 });
    if (body.query.includes("login(")) return reply({ data: { login: payload(issued) } });
    if (body.query.includes("refreshToken(")) {
      if (used.has(body.variables.token)) return reply({ errors: [{ message: "used", extensions: { code: "UNAUTHENTICATED" } }] });
      used.add(body.variables.token);
      issued += 1;
      return reply({ data: { refreshToken: payload(issued) } });
    }
    if (auth !== `Bearer access-${issued}`) return reply({ errors: [{ message: "expired", extensions: { code: "UNAUTHENTICATED" } }] });
    return reply({ data: { me: user } });
  };
  return { calls, fetcher };
}

describe("Session", () => {
  it("refreshes once on UNAUTHENTICATED and retries, rotating the refresh token", async () => {
    const server = fakeServer();
    const session = new Session(server.fetcher, new MemoryStorage());
    await session.login("a@b.c", "pw");
    // the server has moved on (as if the access token expired)
    (session as unknown as { tokens: { accessToken: string } }).tokens.accessToken = "stale";
    const data = await session.request<{ me: typeof user }>("query { me { id } }");
    expect(data.me.name).toBe("Alex");
    expect(session.current?.refreshToken).toBe("refresh-2");
    expect(server.calls.filter((c) => c.query.includes("refreshToken(")).length).toBe(1);
  });

  it("shares one refresh between concurrent callers (a rotated token works once)", async () => {
    const server = fakeServer();
    let now = 0;
    const session = new Session(server.fetcher, new MemoryStorage(), "/graphql", () => now);
    await session.login("a@b.c", "pw");
    now = 899_000; // close to expiry: both callers refresh first
    const [a, b] = await Promise.all([session.accessToken(), session.accessToken()]);
    expect(a).toBe("access-2");
    expect(b).toBe("access-2");
  });

  it("signs out when the refresh is refused", async () => {
    const server = fakeServer();
    const storage = new MemoryStorage();
    const session = new Session(server.fetcher, storage);
    const first = await session.login("a@b.c", "pw");
    await session.refresh(); // refresh-1 is now used up
    const internal = session as unknown as { tokens: object };
    internal.tokens = { ...first, accessToken: "stale" }; // replaying the used refresh token
    await expect(session.request("query { me { id } }")).rejects.toBeInstanceOf(GraphQLRequestError);
    expect(session.current).toBeNull();
    expect(storage.data.size).toBe(0);
  });
});

describe("CursorTracker", () => {
  it("resumes after the last applied cursor and ignores replays of older events", () => {
    const tracker = new CursorTracker("41");
    expect(tracker.advance("42")).toBe(true);
    expect(tracker.advance("42")).toBe(false);
    expect(tracker.advance("40")).toBe(false);
    expect(tracker.advance("100")).toBe(true);
    expect(tracker.after).toBe("100");
  });
});

describe("Session, silent refresh and logout", () => {
  it("refreshes by itself a minute before the access token expires", async () => {
    vi.useFakeTimers();
    try {
      const server = fakeServer();
      const session = new Session(server.fetcher, new MemoryStorage());
      await session.login("a@b.c", "pw");
      session.startSilentRefresh();
      await vi.advanceTimersByTimeAsync(900_000 - 61_000);
      expect(session.current?.refreshToken).toBe("refresh-1");
      await vi.advanceTimersByTimeAsync(2_000);
      expect(session.current?.refreshToken).toBe("refresh-2");
      await vi.advanceTimersByTimeAsync(900_000);
      expect(session.current?.refreshToken).toBe("refresh-3"); // and again for the new token
      session.stopSilentRefresh();
    } finally {
      vi.useRealTimers();
    }
  });

  it("revokes the refresh token on the server before forgetting the session", async () => {
    const server = fakeServer();
    const storage = new MemoryStorage();
    const session = new Session(server.fetcher, storage);
    await session.login("a@b.c", "pw");
    await session.logout();
    const logout = server.calls.find((c) => c.query.includes("logout("));
    expect(logout?.variables.token).toBe("refresh-1");
    expect(session.current).toBeNull();
    expect(storage.data.size).toBe(0);
  });

  it("keeps the session when a refresh cannot reach the server", async () => {
    const server = fakeServer();
    let offline = false;
    const fetcher = (url: string, init: RequestInit) => (offline ? Promise.reject(new TypeError("Failed to fetch")) : server.fetcher(url, init));
    const session = new Session(fetcher, new MemoryStorage());
    await session.login("a@b.c", "pw");
    offline = true;
    expect(await session.refresh()).toBeNull();
    expect(session.current?.refreshToken).toBe("refresh-1");
  });
});
