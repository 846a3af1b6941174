// An outgoing webhook endpoint's form rules (mirroring resolvers/outgoing_webhooks._clean and the
// SSRF check's http(s)-only rule) and its health as the list shows it.
import { z } from "zod";
import type { AdminWebhookEndpointsQuery, Platform, WebhookEndpointInput } from "@/api/graphql.generated";

export type Endpoint = AdminWebhookEndpointsQuery["webhookEndpoints"][number];

/** resolvers/webhook_dispatch.EVENT_TYPES */
export const EVENT_TYPES = [
  "message.created",
  "message.updated",
  "conversation.created",
  "conversation.assigned",
  "conversation.transferred",
  "conversation.escalated",
  "conversation.status_changed",
  "conversation.resolved",
  "csat.received",
  "flow.finished",
] as const;

export const PLATFORMS = [
  "WHATSAPP", "MESSENGER", "INSTAGRAM", "TELEGRAM", "DISCORD", "SLACK", "WEBCHAT", "SMS", "EMAIL", "LINE", "VIBER", "WECHAT",
] as const satisfies readonly Platform[];

export const endpointSchema = z.object({
  url: z
    .string()
    .trim()
    .min(1, "url")
    .max(2000, "url")
    .refine((u) => {
      try {
        const parsed = new URL(u);
        return (parsed.protocol === "https:" || parsed.protocol === "http:") && !parsed.username && !parsed.password;
      } catch {
        return false;
      }
    }, "url"),
  description: z.string().max(200, "description"),
  allEvents: z.boolean(),
  events: z.array(z.string()),
  platforms: z.array(z.string()),
  channelIds: z.array(z.string()),
  enabled: z.boolean(),
  allowPrivateNetwork: z.boolean(),
}).refine((v) => v.allEvents || v.events.length > 0, { path: ["events"], message: "events" });
export type EndpointValues = z.infer<typeof endpointSchema>;

export function toValues(e: Endpoint | undefined): EndpointValues {
  if (!e) return { url: "", description: "", allEvents: true, events: [], platforms: [], channelIds: [], enabled: true, allowPrivateNetwork: false };
  const all = e.events.includes("*");
  return {
    url: e.url,
    description: e.description,
    allEvents: all,
    events: all ? [] : e.events,
    platforms: e.platforms,
    channelIds: e.channelIds,
    enabled: e.enabled,
    allowPrivateNetwork: e.allowPrivateNetwork,
  };
}

export function toInput(v: EndpointValues): WebhookEndpointInput {
  return {
    url: v.url.trim(),
    description: v.description.trim(),
    events: v.allEvents ? ["*"] : v.events,
    platforms: v.platforms as Platform[],
    channelIds: v.channelIds,
    enabled: v.enabled,
    allowPrivateNetwork: v.allowPrivateNetwork,
  };
}

export type Health = "disabled" | "paused" | "failing" | "healthy";

export function health(e: Pick<Endpoint, "enabled" | "disabledReason" | "failingSince">): Health {
  if (!e.enabled) return e.disabledReason ? "disabled" : "paused";
  return e.failingSince ? "failing" : "healthy";
}
