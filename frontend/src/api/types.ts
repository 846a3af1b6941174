// The shapes this app reads from the GraphQL API (see the schema in GraphiQL at /graphql).
export type MessageStatus = "RECEIVED" | "QUEUED" | "SENT" | "DELIVERED" | "READ" | "FAILED" | "POSTED";

export interface User { id: string; name: string; email?: string; role?: string }
export interface Customer { id?: string; name: string | null; phone: string | null }
export interface Attachment { kind: string; filename: string | null; mimeType: string | null; url?: string | null }
export interface Message {
  id: string;
  conversationId?: string;
  platform?: string;
  channelId?: string;
  direction: "INBOUND" | "OUTBOUND" | "NOTE";
  kind: string;
  text: string | null;
  status: MessageStatus;
  errorCode?: string | null;
  errorReason?: string | null;
  clientMessageId?: string | null;
  createdAt: string;
  editedAt?: string | null;
  deletedAt?: string | null;
  sender?: { id: string; name: string } | null;
  attachments?: Attachment[];
}
export interface Conversation {
  id: string;
  status: string;
  platform: string;
  unreadCount: number;
  lastMessageAt: string | null;
  customer: Customer;
  assignee: { id: string; name: string } | null;
  lastMessage: Pick<Message, "id" | "text" | "kind" | "direction" | "status" | "createdAt"> | null;
  priority?: string;
  labels?: string[];
  snoozedUntil?: string | null;
}
export interface Activity { id: string; type: string; data: Record<string, unknown>; createdAt: string; actor: { id: string; name: string } | null }
export interface Viewer { userId: string; name: string; typing: boolean }
export interface ReplyTarget {
  channelId: string;
  channelName: string;
  platform: string;
  address: string | null;
  available: boolean;
  reason: string | null;
  requiresTemplate: boolean;
  isDefault: boolean;
}
export interface InboxEvent { cursor: string; type: string; conversation: Conversation }
export interface ConversationEvent { cursor: string; type: string; message: Message | null; activity: Activity | null }
