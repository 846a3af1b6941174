// Alert rules' vocabulary and form rules, mirroring resolvers/alert_conditions.KINDS and
// resolvers/alerts._check_rule: which scopes each kind takes, its usual direction, the bounds.
import { z } from "zod";
import type { AdminAlertRulesQuery, SaveAlertRuleInput } from "@/api/graphql.generated";

export type Rule = AdminAlertRulesQuery["alertRules"][number];
export type Scope = "platform" | "channel" | "team" | "agent";
const ALL: Scope[] = ["platform", "channel", "team", "agent"];

export const KINDS = {
  sla_breach: { scopes: ALL, condition: "above", unit: "timers" },
  sla_impending: { scopes: ALL, condition: "above", unit: "timers" },
  queue_length: { scopes: ALL, condition: "above", unit: "conversations" },
  queue_wait: { scopes: ALL, condition: "above", unit: "seconds" },
  agents_over_capacity: { scopes: ["team", "agent"] as Scope[], condition: "above", unit: "agents" },
  volume_spike: { scopes: ["platform", "channel"] as Scope[], condition: "above", unit: "ratio" },
  send_latency: { scopes: ["platform", "channel"] as Scope[], condition: "above", unit: "seconds" },
  csat_drop: { scopes: ALL, condition: "below", unit: "score" },
} as const;
export type Kind = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as Kind[];
export const SEVERITIES = ["info", "warning", "critical"] as const;
export const MAX_MINUTES = (31 * 86400) / 60;
export const EVERYTHING = "all";

const minutes = (min: number) =>
  z.string().refine((v) => /^\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= MAX_MINUTES, `minutes${min}`);

export const ruleSchema = z
  .object({
    name: z.string().trim().min(1, "name").max(120, "name"),
    kind: z.enum(KIND_NAMES as [Kind, ...Kind[]]),
    scope: z.string(),
    scopeValue: z.string(),
    condition: z.enum(["usual", "above", "below"]),
    threshold: z.string().refine((v) => v.trim() !== "" && Number.isFinite(Number(v)), "threshold"),
    windowMinutes: minutes(1),
    cooldownMinutes: minutes(0),
    severity: z.enum(SEVERITIES),
    weeks: z.string().refine((v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 12, "weeks"),
    enabled: z.boolean(),
  })
  .superRefine((v, ctx) => {
    if (v.scope !== EVERYTHING && !v.scopeValue) ctx.addIssue({ code: "custom", path: ["scopeValue"], message: "scopeValue" });
    if (v.scope !== EVERYTHING && !(KINDS[v.kind].scopes as string[]).includes(v.scope)) ctx.addIssue({ code: "custom", path: ["scope"], message: "scope" });
  });
export type RuleValues = z.infer<typeof ruleSchema>;

export function toValues(r: Rule | undefined): RuleValues {
  if (!r) {
    return { name: "", kind: "queue_length", scope: EVERYTHING, scopeValue: "", condition: "usual", threshold: "10", windowMinutes: "15", cooldownMinutes: "0", severity: "warning", weeks: "4", enabled: true };
  }
  const kind = (r.kind in KINDS ? r.kind : "queue_length") as Kind;
  const weeks = (r.params as { weeks?: unknown }).weeks;
  return {
    name: r.name,
    kind,
    scope: r.scope ?? EVERYTHING,
    scopeValue: r.scopeValue ?? "",
    condition: r.condition === KINDS[kind].condition ? "usual" : (r.condition as "above" | "below"),
    threshold: String(r.threshold),
    windowMinutes: String(Math.round(r.windowSeconds / 60)),
    cooldownMinutes: String(Math.round(r.cooldownSeconds / 60)),
    severity: (SEVERITIES as readonly string[]).includes(r.severity) ? (r.severity as RuleValues["severity"]) : "warning",
    weeks: typeof weeks === "number" ? String(weeks) : "4",
    enabled: r.enabled,
  };
}

export function toInput(v: RuleValues, id: string | null): SaveAlertRuleInput {
  const scoped = v.scope !== EVERYTHING;
  return {
    id,
    name: v.name.trim(),
    kind: v.kind,
    scope: scoped ? v.scope : null,
    scopeValue: scoped ? v.scopeValue : null,
    condition: v.condition === "usual" ? null : v.condition,
    threshold: Number(v.threshold),
    windowSeconds: Number(v.windowMinutes) * 60,
    cooldownSeconds: Number(v.cooldownMinutes) * 60,
    severity: v.severity,
    params: v.kind === "volume_spike" ? { weeks: Number(v.weeks) } : null,
    enabled: v.enabled,
  };
}

/** 90 → "1 h 30 min", 45 → "45 min", 2880 → "2 d". */
export function duration(seconds: number): string {
  const m = Math.round(seconds / 60);
  if (m === 0) return "0";
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const rest = m % 60;
  return [d && `${d} d`, h && `${h} h`, rest && `${rest} min`].filter(Boolean).join(" ");
}
