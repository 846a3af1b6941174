import type { AdminChannelsQuery } from "@/api/graphql.generated";

export type AdminChannel = AdminChannelsQuery["channels"][number];
export type Retention = AdminChannelsQuery["retentionPolicies"][number];

/** What the creation hands to the channel's page: the channel (before the list is reloaded) and
 * the tokens we made up for it, shown this once. */
export interface CreatedState { channel: AdminChannel; generated: Record<string, string> }
