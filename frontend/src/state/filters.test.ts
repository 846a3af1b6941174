import { describe, expect, it } from "vitest";
import { conversation } from "../test/fixtures";
import { activeCount, DEFAULT_FILTER, dayStart, matches, sameFilter, serverFilter, viewToFilter, type InboxFilter } from "./filters";
import { useSelection } from "./selection";

const me = btoa("User:2");
const f = (over: Partial<InboxFilter>): InboxFilter => ({ ...DEFAULT_FILTER, ...over });

describe("the inbox's filters beyond the tabs", () => {
  it("asks the server for assignee, team, channel, labels and a local-day range (until inclusive)", () => {
    const filter = f({ assigneeId: btoa("User:7"), teamId: btoa("Team:3"), channelId: btoa("Channel:1"), labels: ["vip", "refund"], since: "2026-12-01", until: "2026-12-05" });
    expect(serverFilter(filter, me)).toEqual({
      status: ["OPEN"], assigneeId: btoa("User:7"), teamId: btoa("Team:3"), channelId: btoa("Channel:1"), labels: ["vip", "refund"],
      since: new Date(2026, 11, 1).toISOString(), until: new Date(2026, 11, 6).toISOString(),
    });
    // the "mine" tab wins over a picked assignee
    expect(serverFilter(f({ tab: "mine", assigneeId: btoa("User:7") }), me).assigneeId).toBe(me);
    expect(activeCount(filter)).toBe(6);
  });

  it("applies labels (all, any case) and the date range to live events", () => {
    const c = conversation({ labels: ["VIP", "refund"], lastMessageAt: new Date(2026, 11, 5, 23, 59).toISOString() });
    expect(matches(c, f({ labels: ["vip"] }), me)).toBe(true);
    expect(matches(c, f({ labels: ["vip", "billing"] }), me)).toBe(false);
    expect(matches(c, f({ since: "2026-12-05", until: "2026-12-05" }), me)).toBe(true);
    expect(matches(c, f({ until: "2026-12-04" }), me)).toBe(false);
    expect(matches(c, f({ since: "2026-12-06" }), me)).toBe(false);
    expect(matches(c, f({ teamId: btoa("Team:3") }), me)).toBe(false);
    expect(matches({ ...c, teamId: btoa("Team:3") }, f({ teamId: btoa("Team:3") }), me)).toBe(true);
  });

  it("reads a saved view's stored filter back into the same inbox filter", () => {
    const filter = f({ tab: "mine", priority: "HIGH", teamId: btoa("Team:3"), labels: ["vip"], since: "2026-12-01", until: "2026-12-05", text: "boleto" });
    const server = serverFilter(filter, me);
    // as the server stores it: snake_case, database ids, lower-case enums
    const stored = { statuses: ["open"], assignee_id: 2, priorities: ["high"], team_id: 3, labels: ["vip"], since: server.since, until: server.until };
    const back = viewToFilter(stored, "boleto", me);
    expect(sameFilter(back, filter)).toBe(true);
    expect(viewToFilter({ unassigned: true }, null, me)).toMatchObject({ tab: "unassigned", status: "", text: "" });
    expect(dayStart("2026-12-31", 1)).toBe(new Date(2027, 0, 1).toISOString());
  });
});

describe("the bulk selection", () => {
  it("keeps the failed rows ticked with their errors after a bulk change", () => {
    const s = useSelection.getState();
    s.set(["a", "b", "c"]);
    s.settle(2, { c: { code: "INVALID_TRANSITION", message: "closed" } });
    expect(useSelection.getState()).toMatchObject({ ids: ["c"], updated: 2, errors: { c: { code: "INVALID_TRANSITION" } } });
    useSelection.getState().toggle("a");
    expect(useSelection.getState()).toMatchObject({ ids: ["c", "a"], updated: null, errors: {} });
  });
});
