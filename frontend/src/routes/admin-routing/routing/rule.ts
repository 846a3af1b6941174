// A routing rule's form (the checks of resolvers/teams.py) and the list's reordering.
import { z } from "zod";
import type { AdminRoutingRulesQuery, Platform } from "@/api/graphql.generated";
import { ANY } from "../Choice";

export type Rule = AdminRoutingRulesQuery["routingRules"][number];
export type ChannelRef = AdminRoutingRulesQuery["channels"][number];

export function ruleSchema(channels: ChannelRef[]) {
  return z
    .object({ teamId: z.string(), platform: z.string(), channelId: z.string(), language: z.string(), topic: z.string() })
    .superRefine((v, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
      if (!v.teamId || v.teamId === ANY) issue("teamId", "team");
      if (v.language.trim().length > 16) issue("language", "language");
      if (v.topic.trim().length > 50) issue("topic", "topic");
      const channel = channels.find((c) => c.id === v.channelId);
      if (channel && v.platform !== ANY && channel.platform !== v.platform) issue("platform", "platform");
    });
}
export type RuleForm = z.infer<ReturnType<typeof ruleSchema>>;

export const ruleForm = (rule: Rule | null): RuleForm => ({
  teamId: rule?.teamId ?? ANY,
  platform: rule?.platform ?? ANY,
  channelId: rule?.channelId ?? ANY,
  language: rule?.language ?? "",
  topic: rule?.topic ?? "",
});

/** RoutingRuleInput (addRoutingRule takes the same fields as arguments). */
export function ruleInput(v: RuleForm, position: number) {
  return {
    teamId: v.teamId,
    position,
    platform: v.platform === ANY ? null : (v.platform as Platform),
    channelId: v.channelId === ANY ? null : v.channelId,
    language: v.language.trim() || null,
    topic: v.topic.trim().toLowerCase() || null,
  };
}

/** The position a new rule takes: after every existing one. */
export const nextPosition = (rules: Rule[]) => (rules.length ? Math.max(...rules.map((r) => r.position)) + 1 : 0);

/** The ids in their new order once the rule at `index` moves by `by` (-1 up, +1 down); null at an end. */
export function moved(ids: string[], index: number, by: -1 | 1): string[] | null {
  const to = index + by;
  if (index < 0 || index >= ids.length || to < 0 || to >= ids.length) return null;
  const next = [...ids];
  [next[index], next[to]] = [next[to], next[index]];
  return next;
}
