// The urql client: a normalised cache (Graphcache) in front of HTTP. Requests carry the session's
// access token (refreshed once and retried on UNAUTHENTICATED) and the registered text of their
// document, so the server's allow-list admits them. Live streams are src/api/live.ts's.
import { Client, fetchExchange } from "@urql/core";
import { cacheExchange } from "@urql/exchange-graphcache";
import { registered } from "./registry";
import type { Session } from "./session";

/** Types without an id of their own: stored inside their parent, not normalised. */
const EMBEDDED = [
  "ReplyTarget", "Attachment", "PageInfo", "ConversationConnection", "ConversationEdge",
  "MessageConnection", "MessageEdge", "Demo", "DemoChannel", "Viewer", "InboxEvent", "ConversationEvent",
  // templates (src/api/ops/templates.ts)
  "ResponseTemplateConnection", "ResponseTemplateEdge", "TemplateContent", "TemplateButton", "TemplateVariant", "TemplatePrompt",
  "TemplateVersion", "TemplateDiff", "RenderedTemplate", "ExperimentArm", "ExperimentRate", "ExperimentComparison",
  "WhatsappTemplate", "WhatsappTemplateParameter", "WhatsappTemplateSync", "PromotedVariant",
  // settings: integrations (src/api/ops/integrations.ts)
  "PytakeModule", "AuditEntryConnection", "AuditEntryEdge", "WebhookAttempt", "CreatedApiKey", "WebhookEndpointWithSecret",
  // settings: reporting (src/api/ops/admin-routing.ts)
  "CsatSettings", "PlatformPrice", "ConversionLabel",
  // settings: channels (src/api/ops/admin-channels.ts)
  "RetentionPolicy", "RotatedSecrets",
  // flows (src/api/ops/flows.ts): a node's id is unique only inside its version
  "FlowVersion", "FlowNode", "FlowEdge", "FlowPosition", "FlowExecutionStep", "FlowSimulation", "FlowSimulationStep", "FlowTranscriptEntry",
  // inbox (src/api/ops/inbox-plus.ts, operations.ts)
  "SearchConnection", "SearchHit", "BulkUpdateResult", "BulkError", "ViewCount", "CustomerErasure", "CustomerAttribute",
];

export function graphcache() {
  return cacheExchange({
    keys: Object.fromEntries(EMBEDDED.map((name) => [name, () => null])),
  });
}

export function sessionFetch(session: Session, fetcher: typeof fetch = (input, init) => fetch(input, init)) {
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init?.body ?? "{}")) as { query?: string };
    if (body.query) body.query = registered(body.query);
    const send = (token: string | null) => {
      const headers = new Headers(init?.headers);
      if (token) headers.set("Authorization", `Bearer ${token}`);
      return fetcher(input, { ...init, headers, body: JSON.stringify(body) });
    };
    const response = await send(await session.accessToken());
    if (response.status !== 401 && response.status !== 200) return response;
    const payload = (await response.clone().json().catch(() => null)) as { errors?: { extensions?: { code?: string } }[] } | null;
    if (payload?.errors?.some((e) => e.extensions?.code === "UNAUTHENTICATED") && session.current) {
      const renewed = await session.refresh();
      if (renewed) return send(renewed.accessToken);
    }
    return response;
  };
}

export function makeClient(session: Session): Client {
  return new Client({
    url: "/graphql",
    exchanges: [graphcache(), fetchExchange],
    fetch: sessionFetch(session),
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
  });
}
