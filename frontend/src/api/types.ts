// The shapes this app reads, generated from the server's SDL (graphql.generated.ts, by
// graphql-codegen from schema.graphql and the documents in operations.ts).
import type * as G from "./graphql.generated";

export type MessageStatus = G.MessageStatus;
export type Conversation = G.InboxQuery["conversations"]["edges"][number]["node"];
export type ConversationDetail = G.ConversationQuery["conversation"];
export type Message = Omit<G.SendMutation["sendMessage"], "__typename" | "conversationId" | "platform" | "channelId" | "errorCode" | "errorReason" | "editedAt" | "deletedAt" | "sender" | "attachments" | "metadata"> &
  Partial<Pick<G.SendMutation["sendMessage"], "conversationId" | "platform" | "channelId" | "errorCode" | "errorReason" | "editedAt" | "deletedAt" | "sender" | "attachments" | "metadata">> & { __typename?: "Message" };
export type Activity = NonNullable<G.ConversationEventsSubscription["conversationEvents"]["activity"]>;
export type ReplyTarget = G.ReplyTargetsQuery["conversation"]["replyTargets"][number];
export type Viewer = G.PresenceSubscription["conversationPresence"][number];
export type SlaTimer = Conversation["slaTimers"][number];
export type User = { id: string; name: string; email?: string | null; role?: string | null };
export interface InboxEvent { cursor: string; type: string; conversation: Conversation }
export interface ConversationEvent { cursor: string; type: string; message: Message | null; activity: Activity | null; customer?: { id: string } | null }
