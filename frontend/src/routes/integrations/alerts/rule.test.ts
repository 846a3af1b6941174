import { describe, expect, it } from "vitest";
import { duration, ruleSchema, toInput, toValues } from "./rule";

describe("alert rule form", () => {
  const base = { ...toValues(undefined), name: "Queue too long" };
  it("sends minutes as seconds, the usual condition as null and no scope for everything", () => {
    expect(toInput(base, null)).toEqual({
      id: null, name: "Queue too long", kind: "queue_length", scope: null, scopeValue: null, condition: null,
      threshold: 10, windowSeconds: 900, cooldownSeconds: 0, severity: "warning", params: null, enabled: true,
    });
    expect(toInput({ ...base, kind: "volume_spike", scope: "platform", scopeValue: "whatsapp", condition: "below", weeks: "6" }, "QWxlcnRSdWxlOjE=")).toMatchObject({
      id: "QWxlcnRSdWxlOjE=", scope: "platform", scopeValue: "whatsapp", condition: "below", params: { weeks: 6 },
    });
  });
  it("refuses a scope its kind does not take, a scope without its target, and bounds the server refuses", () => {
    const issues = (v: object) => ruleSchema.safeParse({ ...base, ...v }).error?.issues.map((i) => [i.path.join("."), i.message]) ?? [];
    expect(issues({})).toEqual([]);
    expect(issues({ kind: "agents_over_capacity", scope: "platform", scopeValue: "whatsapp" })).toEqual([["scope", "scope"]]);
    expect(issues({ scope: "team", scopeValue: "" })).toEqual([["scopeValue", "scopeValue"]]);
    expect(issues({ windowMinutes: "0", cooldownMinutes: "99999", threshold: "x", weeks: "13", name: " " })).toEqual([
      ["name", "name"], ["threshold", "threshold"], ["windowMinutes", "minutes1"], ["cooldownMinutes", "minutes0"], ["weeks", "weeks"],
    ]);
  });
  it("reads a saved rule back, its kind's usual condition as usual", () => {
    const v = toValues({ __typename: "AlertRule", id: "1", name: "CSAT", kind: "csat_drop", scope: "team", scopeValue: "VGVhbTox", condition: "below", threshold: 3.5, windowSeconds: 3600, severity: "critical", cooldownSeconds: 1800, params: {}, enabled: false });
    expect(v).toMatchObject({ condition: "usual", windowMinutes: "60", cooldownMinutes: "30", threshold: "3.5", scope: "team", enabled: false });
  });
  it("writes durations briefly", () => {
    expect(duration(5400)).toBe("1 h 30 min");
    expect(duration(2700)).toBe("45 min");
    expect(duration(172800)).toBe("2 d");
    expect(duration(0)).toBe("0");
  });
});
