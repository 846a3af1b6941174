// The notification preferences form's rules, mirroring resolvers/notifications.save_preferences:
// known kinds and channels, an http(s) Slack URL (required for Slack), an IANA zone, and quiet
// hours as two "HH:MM" or neither.
import { z } from "zod";

export const KINDS = ["assignment", "mention", "customer_reply", "alert"] as const;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const URL_RE = /^https?:\/\/[^\s/]+\/\S*$/;

export function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

export const prefsSchema = z
  .object({
    notify: z.array(z.enum(KINDS)),
    email: z.boolean(),
    slack: z.boolean(),
    slackWebhookUrl: z.string().trim(),
    timezone: z.string().trim().refine(validZone, { message: "timezone" }),
    quiet: z.boolean(),
    quietStart: z.string(),
    quietEnd: z.string(),
  })
  .superRefine((v, ctx) => {
    if (v.slackWebhookUrl && !URL_RE.test(v.slackWebhookUrl)) ctx.addIssue({ code: "custom", path: ["slackWebhookUrl"], message: "url" });
    else if (v.slack && !v.slackWebhookUrl) ctx.addIssue({ code: "custom", path: ["slackWebhookUrl"], message: "slackNeedsUrl" });
    if (v.quiet && !(HHMM.test(v.quietStart) && HHMM.test(v.quietEnd))) ctx.addIssue({ code: "custom", path: ["quietStart"], message: "quiet" });
  });

export type PrefsForm = z.infer<typeof prefsSchema>;

export interface Preferences {
  mutedKinds: string[];
  channels: string[];
  slackWebhookUrl: string | null;
  timezone: string;
  quietStart: string | null;
  quietEnd: string | null;
}

export function toForm(p: Preferences): PrefsForm {
  return {
    notify: KINDS.filter((k) => !p.mutedKinds.includes(k)),
    email: p.channels.includes("email"),
    slack: p.channels.includes("slack"),
    slackWebhookUrl: p.slackWebhookUrl ?? "",
    timezone: p.timezone,
    quiet: p.quietStart !== null,
    quietStart: p.quietStart ?? "22:00",
    quietEnd: p.quietEnd ?? "07:00",
  };
}

export function toInput(f: PrefsForm): Preferences {
  return {
    mutedKinds: KINDS.filter((k) => !f.notify.includes(k)),
    channels: [...(f.email ? ["email"] : []), ...(f.slack ? ["slack"] : [])],
    slackWebhookUrl: f.slackWebhookUrl || null,
    timezone: f.timezone,
    quietStart: f.quiet ? f.quietStart : null,
    quietEnd: f.quiet ? f.quietEnd : null,
  };
}
