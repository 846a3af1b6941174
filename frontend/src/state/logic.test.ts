import { describe, expect, it } from "vitest";
import { conversation } from "../test/fixtures";
import { DEFAULT_FILTER, matches, serverFilter, textMatches } from "./filters";
import { useInbox } from "./inbox";
import { shortDuration, slaState } from "./sla";

const timer = (over: Record<string, string | null>) => ({
  __typename: "SlaTimer" as const, id: "1", kind: "first_response", dueAt: "2026-12-05T10:10:00Z", warnAt: "2026-12-05T10:08:00Z",
  metAt: null, breachedAt: null, cancelledAt: null, ...over,
});
const at = (iso: string) => Date.parse(iso);

describe("slaState", () => {
  it("is calm, then warns, then breaches, on the most urgent running timer", () => {
    const timers = [timer({ id: "2", kind: "resolution", dueAt: "2026-12-05T18:00:00Z", warnAt: "2026-12-05T17:00:00Z" }), timer({})];
    expect(slaState(timers, at("2026-12-05T10:00:00Z"))).toMatchObject({ kind: "first_response", level: "ok", msLeft: 600_000 });
    expect(slaState(timers, at("2026-12-05T10:09:00Z"))?.level).toBe("warning");
    expect(slaState(timers, at("2026-12-05T10:11:00Z"))).toMatchObject({ level: "breached", msLeft: -60_000 });
  });
  it("ignores met and cancelled timers, and says breached when the server says so", () => {
    expect(slaState([timer({ metAt: "2026-12-05T10:01:00Z" })], at("2026-12-05T10:00:00Z"))).toBeNull();
    expect(slaState([timer({ cancelledAt: "2026-12-05T10:01:00Z" })], at("2026-12-05T10:00:00Z"))).toBeNull();
    expect(slaState([timer({ breachedAt: "2026-12-05T10:00:00Z" })], at("2026-12-05T09:00:00Z"))?.level).toBe("breached");
  });
  it("writes short durations", () => {
    expect([45_000, 12 * 60_000, 185 * 60_000, 52 * 3600_000, -90_000].map(shortDuration)).toEqual(["45s", "12m", "3h 5m", "2d 4h", "1m"]);
  });
});

describe("inbox filters", () => {
  const me = "VXNlcjoy";
  it("asks the server for what the tabs and selects say", () => {
    expect(serverFilter(DEFAULT_FILTER, me)).toEqual({ status: ["OPEN"] });
    expect(serverFilter({ ...DEFAULT_FILTER, tab: "mine", status: "", platform: "TELEGRAM", priority: "HIGH", unanswered: true }, me)).toEqual({
      assigneeId: me, platform: "TELEGRAM", priority: ["HIGH"], unanswered: true,
    });
    expect(serverFilter({ ...DEFAULT_FILTER, tab: "unassigned" }, me)).toEqual({ status: ["OPEN"], unassigned: true });
  });
  it("applies the same rule to live events", () => {
    const mine = conversation({ assignee: { __typename: "User", id: me, name: "Alex" } });
    expect(matches(mine, { ...DEFAULT_FILTER, tab: "mine" }, me)).toBe(true);
    expect(matches(mine, { ...DEFAULT_FILTER, tab: "unassigned" }, me)).toBe(false);
    expect(matches(conversation({ status: "RESOLVED" }), DEFAULT_FILTER, me)).toBe(false);
    expect(matches(conversation({ platform: "TELEGRAM" }), { ...DEFAULT_FILTER, platform: "WHATSAPP" }, me)).toBe(false);
    const answered = conversation({ lastMessage: { ...conversation().lastMessage!, direction: "OUTBOUND" } });
    expect(matches(answered, { ...DEFAULT_FILTER, unanswered: true }, me)).toBe(false);
  });
  it("filters on screen by every word in name, phone or last message", () => {
    const c = conversation();
    expect(textMatches(c, "maria olá")).toBe(true);
    expect(textMatches(c, "98765")).toBe(true);
    expect(textMatches(c, "maria john")).toBe(false);
    expect(textMatches(c, "  ")).toBe(true);
  });
});

describe("the inbox store", () => {
  it("keeps a live event newer than the page that arrives after it", () => {
    useInbox.getState().reset();
    const live = conversation({ lastMessageAt: "2026-12-05T10:05:00Z", unreadCount: 2 });
    useInbox.getState().apply(live, () => true);
    useInbox.getState().loaded([conversation({ lastMessageAt: "2026-12-05T10:00:00Z" }), conversation({ id: "b", lastMessageAt: "2026-12-05T09:00:00Z" })], "c1", true, () => true);
    const s = useInbox.getState();
    expect(s.items.map((c) => [c.id, c.unreadCount])).toEqual([[live.id, 2], ["b", 0]]);
    expect(s.hasMore).toBe(true);
    expect(s.loading).toBe(false);
  });
});

describe("the early first page", () => {
  it("is taken once, and only for the filter it was asked with", async () => {
    const { prefetchFirstPage, takeFirstPage } = await import("./inbox");
    const page = { conversations: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } } };
    prefetchFirstPage('{"status":["OPEN"]}', async () => page);
    expect(takeFirstPage('{"status":["PENDING"]}')).toBeNull();
    prefetchFirstPage('{"status":["OPEN"]}', async () => page);
    expect(await takeFirstPage('{"status":["OPEN"]}')).toBe(page);
    expect(takeFirstPage('{"status":["OPEN"]}')).toBeNull();
  });
});
