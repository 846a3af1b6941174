import { describe, expect, it } from "vitest";
import { ANY } from "./Choice";
import { shortDuration, splitSeconds, toSeconds } from "./duration";
import { dayProblem, emptyWeek, isTimeZone, officeWeek, summarizeWeek, weekFromJson, weekToJson } from "./hours";
import { labelsSchema, pricesSchema } from "./reporting/schemas";
import { moved, nextPosition, ruleInput, ruleSchema, type Rule } from "./routing/rule";
import { formOf, inputOf, policySchema } from "./sla/form";
import type { Policy } from "./sla/types";

const issues = (r: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join(".")}:${i.message}`);

describe("business hours", () => {
  it("round-trips the API's shape, leaving closed days out", () => {
    const week = officeWeek();
    week.sat = [{ start: "10:00", end: "14:00" }];
    const json = weekToJson(week);
    expect(Object.keys(json)).toEqual(["mon", "tue", "wed", "thu", "fri", "sat"]);
    expect(json.sat).toEqual([["10:00", "14:00"]]);
    expect(weekFromJson(json)).toEqual(week);
    expect(weekFromJson({ mon: [["09:00:00", "12:30:00"]] }).mon).toEqual([{ start: "09:00", end: "12:30" }]);
    expect(weekToJson(emptyWeek())).toEqual({});
  });
  it("finds reversed, overlapping and malformed ranges", () => {
    expect(dayProblem([{ start: "09:00", end: "12:00" }, { start: "13:00", end: "18:00" }])).toBeNull();
    expect(dayProblem([{ start: "18:00", end: "09:00" }])).toBe("order");
    expect(dayProblem([{ start: "09:00", end: "13:00" }, { start: "12:00", end: "18:00" }])).toBe("overlap");
    expect(dayProblem([{ start: "", end: "18:00" }])).toBe("time");
  });
  it("summarises consecutive days with the same hours", () => {
    const week = officeWeek();
    week.sat = [{ start: "09:00", end: "13:00" }];
    week.wed = [{ start: "09:00", end: "12:00" }, { start: "13:00", end: "18:00" }];
    expect(summarizeWeek(week, (d) => d)).toBe("mon–tue 09:00–18:00 · wed 09:00–12:00, 13:00–18:00 · thu–fri 09:00–18:00 · sat 09:00–13:00");
  });
  it("knows time zones", () => {
    expect(isTimeZone("America/Sao_Paulo")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });
});

describe("durations", () => {
  it("picks the largest exact unit", () => {
    expect(splitSeconds(86_400 * 2)).toEqual({ value: 2, unit: "days" });
    expect(splitSeconds(5400)).toEqual({ value: 90, unit: "minutes" });
    expect(splitSeconds(7200)).toEqual({ value: 2, unit: "hours" });
    expect(toSeconds(1.5, "hours")).toBe(5400);
    expect(shortDuration(93_600)).toBe("1d 2h");
    expect(shortDuration(1800)).toBe("30m");
  });
});

const policy: Policy = {
  __typename: "SlaPolicy",
  id: "U2xhUG9saWN5OjE=",
  name: "Gold",
  position: 2,
  teamId: "VGVhbTox",
  priority: "URGENT",
  platform: null,
  firstResponseSeconds: 1800,
  nextResponseSeconds: null,
  resolutionSeconds: 172_800,
  warnBeforeSeconds: 600,
  timezone: "America/Sao_Paulo",
  businessHours: { mon: [["09:00", "18:00"]] },
  holidays: ["2026-12-25"],
};

describe("the SLA policy form", () => {
  it("reads a policy and writes the same policy back", () => {
    const form = formOf(policy);
    expect(form.first).toEqual({ on: true, value: 30, unit: "minutes" });
    expect(form.next.on).toBe(false);
    expect(form.platform).toBe(ANY);
    expect(policySchema.safeParse(form).success).toBe(true);
    expect(inputOf(form)).toEqual({
      name: "Gold",
      position: 2,
      teamId: "VGVhbTox",
      priority: "URGENT",
      platform: null,
      firstResponseSeconds: 1800,
      nextResponseSeconds: null,
      resolutionSeconds: 172_800,
      warnBeforeSeconds: 600,
      timezone: "America/Sao_Paulo",
      businessHours: { mon: [["09:00", "18:00"]] },
      holidays: ["2026-12-25"],
    });
  });
  it("sends {} for around the clock, whatever the week holds", () => {
    expect(inputOf({ ...formOf(policy), alwaysOpen: true }).businessHours).toEqual({});
  });
  it("refuses what the server refuses, and overlapping hours", () => {
    const form = formOf(null, "UTC");
    expect(policySchema.safeParse({ ...form, name: "x" }).success).toBe(true);
    const bad = policySchema.safeParse({
      ...form,
      name: " ",
      timezone: "Mars/Olympus",
      first: { ...form.first, on: false },
      resolution: { ...form.resolution, value: 0 },
      warn: { value: 31, unit: "days" },
      week: { ...form.week, tue: [{ start: "09:00", end: "13:00" }, { start: "12:00", end: "18:00" }] },
    });
    expect(issues(bad)).toEqual(["name:name", "resolution.value:amount", "warn.value:warn", "timezone:timezone", "week.tue:overlap"]);
    const none = policySchema.safeParse({ ...form, name: "x", first: { ...form.first, on: false }, resolution: { ...form.resolution, on: false } });
    expect(issues(none)).toEqual(["first.on:target"]);
    const closed = policySchema.safeParse({ ...form, name: "x", week: emptyWeek() });
    expect(issues(closed)).toEqual(["week:noHours"]);
  });
});

const rule = (id: string, position: number): Rule => ({
  __typename: "RoutingRule", id, teamId: "t", position, platform: null, channelId: null, language: null, topic: null, createdAt: "2026-12-05T10:00:00Z",
});

describe("routing rules", () => {
  it("moves a rule up and down, not past the ends", () => {
    expect(moved(["a", "b", "c"], 1, -1)).toEqual(["b", "a", "c"]);
    expect(moved(["a", "b", "c"], 1, 1)).toEqual(["a", "c", "b"]);
    expect(moved(["a", "b", "c"], 0, -1)).toBeNull();
    expect(moved(["a", "b", "c"], 2, 1)).toBeNull();
  });
  it("puts a new rule last", () => {
    expect(nextPosition([])).toBe(0);
    expect(nextPosition([rule("a", 3), rule("b", 7)])).toBe(8);
  });
  it("needs a team, and a channel on the rule's platform", () => {
    const channels = [{ __typename: "Channel" as const, id: "c1", name: "Support", platform: "WHATSAPP" as const }];
    const schema = ruleSchema(channels);
    const base = { teamId: "t1", platform: ANY, channelId: "c1", language: "", topic: "" };
    expect(schema.safeParse(base).success).toBe(true);
    expect(issues(schema.safeParse({ ...base, teamId: ANY, platform: "TELEGRAM", topic: "x".repeat(51) }))).toEqual([
      "teamId:team", "topic:topic", "platform:platform",
    ]);
    expect(ruleInput({ ...base, topic: " Billing ", language: " pt-BR " }, 4)).toEqual({
      teamId: "t1", position: 4, platform: null, channelId: "c1", language: "pt-BR", topic: "billing",
    });
  });
});

describe("reporting settings", () => {
  it("checks prices like the server: kinds, amounts, one price per platform and kind", () => {
    const row = { platform: "WHATSAPP", kind: "marketing", unit: "message" as const, price: "0.0125" };
    expect(pricesSchema.safeParse({ currency: "usd", rows: [row] }).success).toBe(true);
    const bad = pricesSchema.safeParse({ currency: "US", rows: [row, { ...row, price: "-1" }, { ...row, kind: "Market" }] });
    expect(issues(bad)).toEqual(["currency:currency", "rows.1.price:price", "rows.1.kind:duplicate", "rows.2.kind:kind"]);
  });
  it("checks conversion labels: names once each, values with cents", () => {
    const ok = labelsSchema.safeParse({ rows: [{ label: "Purchase", value: "49.90", currency: "BRL" }] });
    expect(ok.success).toBe(true);
    const bad = labelsSchema.safeParse({ rows: [{ label: "a", value: "1", currency: "BRL" }, { label: "A", value: "1.234", currency: "BR" }] });
    expect(issues(bad)).toEqual(["rows.1.label:duplicate", "rows.1.value:value", "rows.1.currency:currency"]);
  });
});
