import { DEFAULT_FILTER } from "@/state/filters";
import { describe, expect, it } from "vitest";
import { applyAlert, mergeLoaded, type Alert } from "./alerts";
import {
  agentSeries, drillFilter, filterParams, formatDuration, metricFilter, metricScope, parseFilter, platformSeries, rangeFor, spreadSeries, teamSeries,
  volumeSeries, type MetricRow,
} from "./model";

const row = (metric: string, patch: Partial<MetricRow> = {}): MetricRow => ({
  metric, bucket: null, count: 0, avg: null, median: null, p90: null, p95: null, value: null, numerator: null,
  group: { platform: null, teamId: null, agentId: null }, ...patch,
});

describe("dashboard filters", () => {
  it("round-trip through the URL, dropping defaults and unknown values", () => {
    const f = parseFilter(new URLSearchParams("range=30d&platform=TELEGRAM&team=VGVhbTox&agent="));
    expect(f).toEqual({ range: "30d", platform: "TELEGRAM", team: "VGVhbTox", agent: "" });
    expect(filterParams(f)).toEqual({ range: "30d", platform: "TELEGRAM", team: "VGVhbTox" });
    expect(parseFilter(new URLSearchParams("range=1y&platform=FAX"))).toEqual({ range: "7d", platform: "", team: "", agent: "" });
  });

  it("ask for whole hours ending with the current one, and only the filters set", () => {
    const now = Date.parse("2026-12-05T10:35:00Z");
    expect(rangeFor("24h", now)).toEqual({ from: "2026-12-04T11:00:00.000Z", to: "2026-12-05T11:00:00.000Z" });
    expect(metricFilter({ range: "7d", platform: "", team: "", agent: "" })).toBeNull();
    expect(metricFilter({ range: "7d", platform: "WHATSAPP", team: "", agent: "VXNlcjoy" })).toEqual({ platforms: ["WHATSAPP"], agentIds: ["VXNlcjoy"] });
  });
});

describe("chart data", () => {
  it("volume fills every hour of the range, empty ones with zeros", () => {
    const range = { from: "2026-12-05T08:00:00.000Z", to: "2026-12-05T11:00:00.000Z" };
    const points = volumeSeries([row("messages_in", { bucket: "2026-12-05T09:00:00+00:00", count: 4 }), row("messages_out", { bucket: "2026-12-05T09:00:00+00:00", count: 2 })], range, "HOUR");
    expect(points.map((p) => [p.bucket.slice(11, 13), p.messagesIn, p.messagesOut])).toEqual([["08", 0, 0], ["09", 4, 2], ["10", 0, 0]]);
  });

  it("platforms: the enum's name, percentages, latency only with sends, busiest first", () => {
    const points = platformSeries([
      row("messages_in", { count: 3, group: { platform: "telegram", teamId: null, agentId: null } }),
      row("messages_in", { count: 9, group: { platform: "whatsapp", teamId: null, agentId: null } }),
      row("send_availability", { count: 10, value: 0.9, group: { platform: "whatsapp", teamId: null, agentId: null } }),
      row("outbound_accept_latency", { count: 0, p90: 3, group: { platform: "telegram", teamId: null, agentId: null } }),
    ]);
    expect(points.map((p) => p.platform)).toEqual(["WHATSAPP", "TELEGRAM"]);
    expect(points[0].sendAvailability).toBeCloseTo(90);
    expect(points[1].latency).toBeNull();
  });

  it("team load splits open into queued, assigned and the rest; the team filter keeps one", () => {
    const teams = [{ teamId: "a", teamName: "Sales", open: 5, queued: 2, assigned: 2 }, { teamId: null, teamName: null, open: 9, queued: 0, assigned: 8 }];
    expect(teamSeries(teams, "", "No team")).toEqual([
      { teamId: null, name: "No team", queued: 0, assigned: 8, other: 1 },
      { teamId: "a", name: "Sales", queued: 2, assigned: 2, other: 1 },
    ]);
    expect(teamSeries(teams, "a", "No team").map((x) => x.name)).toEqual(["Sales"]);
  });

  it("agent load names agents, hides those with none", () => {
    const rows = [row("assigned_now", { count: 2, group: { platform: null, teamId: null, agentId: "u1" } }), row("assigned_now", { count: 0, group: { platform: null, teamId: null, agentId: "u2" } })];
    expect(agentSeries(rows, new Map([["u1", "Alex"]]), "?")).toEqual([{ agentId: "u1", name: "Alex", assigned: 2 }]);
  });

  it("durations read as people say them", () => {
    expect(formatDuration(42, "en")).toBe("42 s");
    expect(formatDuration(150, "en")).toBe("2.5 min");
    expect(formatDuration(5400, "en")).toBe("1.5 h");
    expect(formatDuration(null, "en")).toBe("—");
  });
});

describe("drill-down", () => {
  it("sets only what the inbox understands, clearing the rest", () => {
    expect(drillFilter({ kind: "platform", platform: "WHATSAPP" })).toEqual({ ...DEFAULT_FILTER, tab: "all", status: "", platform: "WHATSAPP" });
    expect(drillFilter({ kind: "open" })).toMatchObject({ labels: [], assigneeId: "", since: "", until: "" }); // the inbox's other filters cleared
    expect(drillFilter({ kind: "queued" })).toMatchObject({ tab: "unassigned", status: "OPEN", platform: "" });
  });

  const scoped = metricScope({ range: "7d", platform: "TELEGRAM", team: "VGVhbTox", agent: "VXNlcjo3" });

  it("keeps the dashboard's filters the chart was drawn with", () => {
    expect(scoped).toEqual({ platform: "TELEGRAM", teamId: "VGVhbTox", agentId: "VXNlcjo3" });
    expect(drillFilter({ kind: "platform", platform: "WHATSAPP" }, scoped)).toEqual({
      ...DEFAULT_FILTER, tab: "all", status: "", platform: "WHATSAPP", teamId: "VGVhbTox", assigneeId: "VXNlcjo3",
    });
    expect(drillFilter({ kind: "platform", platform: "SMS" }, metricScope({ range: "24h", platform: "", team: "", agent: "" }))).toEqual({
      ...DEFAULT_FILTER, tab: "all", status: "", platform: "SMS",
    });
  });

  it("maps a channel, a label and an agent's bar to the inbox's channel, labels and assignee", () => {
    expect(drillFilter({ kind: "channel", channelId: "Q2hhbm5lbDoy" })).toEqual({ ...DEFAULT_FILTER, tab: "all", status: "", channelId: "Q2hhbm5lbDoy" });
    expect(drillFilter({ kind: "label", label: "refund" }, scoped)).toEqual({
      ...DEFAULT_FILTER, tab: "all", status: "", platform: "TELEGRAM", teamId: "VGVhbTox", assigneeId: "VXNlcjo3", labels: ["refund"],
    });
    // the agent chart counts conversations assigned now: that agent's open ones, whatever the agent filter
    expect(drillFilter({ kind: "agent", agentId: "VXNlcjo5" }, scoped)).toEqual({
      ...DEFAULT_FILTER, tab: "all", status: "OPEN", platform: "TELEGRAM", teamId: "VGVhbTox", assigneeId: "VXNlcjo5",
    });
  });

  it("maps a team's load segment to that team, and the no-team bar to any team", () => {
    expect(drillFilter({ kind: "queued", teamId: "VGVhbToy" })).toEqual({ ...DEFAULT_FILTER, tab: "unassigned", status: "OPEN", teamId: "VGVhbToy" });
    expect(drillFilter({ kind: "assigned", teamId: "VGVhbToy" })).toEqual({ ...DEFAULT_FILTER, tab: "all", status: "OPEN", teamId: "VGVhbToy" });
    expect(drillFilter({ kind: "unassigned", teamId: null }, { teamId: "VGVhbTox" })).toMatchObject({ tab: "unassigned", teamId: "VGVhbTox" });
    expect(drillFilter({ kind: "open", teamId: null })).toMatchObject({ status: "OPEN", teamId: "" });
    // unassigned never keeps an assignee, even when the dashboard is filtered to one
    expect(drillFilter({ kind: "unassigned" }, scoped)).toMatchObject({ tab: "unassigned", assigneeId: "" });
  });

  it("ranks channels (by name) and labels by the conversations started", () => {
    const rows = [
      row("conversations_started", { count: 3, group: { platform: null, teamId: null, agentId: null, channelId: "Q2hhbm5lbDox" } }),
      row("conversations_started", { count: 9, group: { platform: null, teamId: null, agentId: null, channelId: "Q2hhbm5lbDoy" } }),
      row("conversations_started", { count: 0, group: { platform: null, teamId: null, agentId: null, channelId: "Q2hhbm5lbDoz" } }),
    ];
    expect(spreadSeries(rows, "channel", new Map([["Q2hhbm5lbDox", "Support line"]]))).toEqual([
      { key: "Q2hhbm5lbDoy", name: "Q2hhbm5lbDoy", count: 9 },
      { key: "Q2hhbm5lbDox", name: "Support line", count: 3 },
    ]);
    const labels = [row("conversations_started", { count: 2, group: { platform: null, teamId: null, agentId: null, label: "vip" } })];
    expect(spreadSeries(labels, "label", new Map())).toEqual([{ key: "vip", name: "vip", count: 2 }]);
  });
});

describe("alerts list", () => {
  const alert = (id: string, patch: Partial<Alert> = {}): Alert => ({
    id, ruleId: "r", ruleName: `rule ${id}`, kind: "queue_length", state: "open", severity: "warning", value: 3, threshold: 1,
    openedAt: "2026-12-05T10:00:00Z", lastSeenAt: "2026-12-05T10:00:00Z", acknowledgedAt: null, acknowledgedById: null, resolvedAt: null, ...patch,
  });

  it("orders open before acknowledged, critical first; resolved alerts leave", () => {
    let list = mergeLoaded([], [alert("1"), alert("2", { severity: "critical" }), alert("3", { state: "acknowledged", severity: "critical" })]);
    expect(list.map((a) => a.id)).toEqual(["2", "1", "3"]);
    list = applyAlert(list, alert("2", { state: "resolved" }));
    expect(list.map((a) => a.id)).toEqual(["1", "3"]);
  });

  it("a stale open copy does not undo an acknowledgement", () => {
    const acked = applyAlert([], alert("1", { state: "acknowledged" }));
    expect(applyAlert(acked, alert("1"))[0].state).toBe("acknowledged");
    expect(applyAlert(acked, alert("1", { state: "resolved" }))).toEqual([]);
  });
});
