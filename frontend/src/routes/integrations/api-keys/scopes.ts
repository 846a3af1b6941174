// The API key scopes: every value of the server's ApiKeyScope enum (the object below fails to
// compile when the SDL adds one), grouped by what they reach, shown as the README writes them.
import type { ApiKeyScope } from "@/api/graphql.generated";

const GROUP_OF = {
  CONVERSATIONS_READ: "conversations",
  CONVERSATIONS_WRITE: "conversations",
  MESSAGES_SEND: "conversations",
  CUSTOMERS_WRITE: "conversations",
  TEMPLATES_READ: "automation",
  TEMPLATES_MANAGE: "automation",
  FLOWS_READ: "automation",
  FLOWS_MANAGE: "automation",
  CHANNELS_READ: "setup",
  CHANNELS_MANAGE: "setup",
  TEAMS_READ: "setup",
  TEAMS_MANAGE: "setup",
  USERS_READ: "setup",
  METRICS_READ: "oversight",
  WEBHOOKS_MANAGE: "oversight",
  AUDIT_READ: "oversight",
  PRIVACY_MANAGE: "oversight",
} as const satisfies Record<ApiKeyScope, string>;

export type ScopeGroup = (typeof GROUP_OF)[ApiKeyScope];
export const SCOPE_GROUPS: readonly ScopeGroup[] = ["conversations", "automation", "setup", "oversight"];
export const SCOPES = Object.keys(GROUP_OF) as ApiKeyScope[];

export const scopesIn = (group: ScopeGroup) => SCOPES.filter((s) => GROUP_OF[s] === group);

/** CONVERSATIONS_READ → "conversations:read", as the README and the server's errors name it. */
export function scopeName(scope: ApiKeyScope): string {
  const at = scope.lastIndexOf("_");
  return `${scope.slice(0, at).toLowerCase()}:${scope.slice(at + 1).toLowerCase()}`;
}
