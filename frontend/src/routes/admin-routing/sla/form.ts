// The SLA editor's form: its values, the checks (those of resolvers/sla.py, plus overlapping
// ranges), and the conversions from and to the API's policy.
import { z } from "zod";
import type { Platform, Priority } from "@/api/graphql.generated";
import { splitSeconds, toSeconds, type Unit } from "../duration";
import { ANY } from "../Choice";
import { DAYS, dayProblem, isAlwaysOpen, isTimeZone, officeWeek, weekFromJson, weekToJson, type Week } from "../hours";
import type { Policy } from "./types";

export const TARGETS = ["first", "next", "resolution"] as const;
export type TargetKey = (typeof TARGETS)[number];

const num = z.union([z.number(), z.nan()]);
const unit = z.enum(["minutes", "hours", "days"]);
const target = z.object({ on: z.boolean(), value: num, unit });

export const policySchema = z
  .object({
    name: z.string(),
    position: num,
    teamId: z.string(),
    priority: z.string(),
    platform: z.string(),
    first: target,
    next: target,
    resolution: target,
    warn: z.object({ value: num, unit }),
    timezone: z.string(),
    alwaysOpen: z.boolean(),
    week: z.custom<Week>(),
    holidays: z.array(z.string()),
  })
  .superRefine((v, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const name = v.name.trim();
    if (!name || name.length > 120) issue(["name"], "name");
    if (!Number.isInteger(v.position) || Math.abs(v.position) > 1_000_000) issue(["position"], "position");
    if (!TARGETS.some((k) => v[k].on)) issue(["first", "on"], "target");
    for (const k of TARGETS) if (v[k].on && !(v[k].value > 0)) issue([k, "value"], "amount");
    const warn = toSeconds(v.warn.value, v.warn.unit);
    if (!(warn >= 0 && warn <= 30 * 86_400)) issue(["warn", "value"], "warn");
    if (!isTimeZone(v.timezone)) issue(["timezone"], "timezone");
    if (!v.alwaysOpen) {
      if (isAlwaysOpen(v.week)) issue(["week"], "noHours");
      for (const day of DAYS) {
        const problem = dayProblem(v.week[day]);
        if (problem) issue(["week", day], problem);
      }
    }
  });

export type PolicyForm = z.infer<typeof policySchema>;

const targetOf = (seconds: number | null, fallback: { value: number; unit: Unit }) =>
  seconds ? { on: true, ...splitSeconds(seconds) } : { on: false, ...fallback };

export function formOf(policy: Policy | null, defaultTimezone = "UTC"): PolicyForm {
  if (!policy) {
    return {
      name: "",
      position: 0,
      teamId: ANY,
      priority: ANY,
      platform: ANY,
      first: { on: true, value: 1, unit: "hours" },
      next: { on: false, value: 4, unit: "hours" },
      resolution: { on: true, value: 1, unit: "days" },
      warn: { value: 15, unit: "minutes" },
      timezone: defaultTimezone,
      alwaysOpen: false,
      week: officeWeek(),
      holidays: [],
    };
  }
  const week = weekFromJson(policy.businessHours);
  return {
    name: policy.name,
    position: policy.position,
    teamId: policy.teamId ?? ANY,
    priority: policy.priority ?? ANY,
    platform: policy.platform ?? ANY,
    first: targetOf(policy.firstResponseSeconds, { value: 1, unit: "hours" }),
    next: targetOf(policy.nextResponseSeconds, { value: 4, unit: "hours" }),
    resolution: targetOf(policy.resolutionSeconds, { value: 1, unit: "days" }),
    warn: splitSeconds(policy.warnBeforeSeconds),
    timezone: policy.timezone,
    alwaysOpen: isAlwaysOpen(week),
    week: isAlwaysOpen(week) ? officeWeek() : week,
    holidays: [...(policy.holidays as string[])].sort(),
  };
}

/** The API's CreateSlaPolicyInput / SlaPolicyInput (the same fields). */
export function inputOf(v: PolicyForm) {
  const seconds = (k: TargetKey) => (v[k].on ? toSeconds(v[k].value, v[k].unit) : null);
  return {
    name: v.name.trim(),
    position: v.position,
    teamId: v.teamId === ANY ? null : v.teamId,
    priority: v.priority === ANY ? null : (v.priority as Priority),
    platform: v.platform === ANY ? null : (v.platform as Platform),
    firstResponseSeconds: seconds("first"),
    nextResponseSeconds: seconds("next"),
    resolutionSeconds: seconds("resolution"),
    warnBeforeSeconds: toSeconds(v.warn.value, v.warn.unit),
    timezone: v.timezone.trim(),
    businessHours: v.alwaysOpen ? {} : weekToJson(v.week),
    holidays: [...new Set(v.holidays)].sort(),
  };
}
