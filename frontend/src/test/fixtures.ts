import type { Conversation, Message } from "../api/types";

export const conversation = (over: Partial<Conversation> = {}): Conversation => ({
  __typename: "Conversation",
  id: "Q29udmVyc2F0aW9uOjE=",
  status: "OPEN",
  platform: "WHATSAPP",
  unreadCount: 0,
  lastMessageAt: "2026-12-05T10:00:00Z",
  priority: "NORMAL",
  labels: [],
  snoozedUntil: null,
  queuedAt: null,
  teamId: null,
  channel: { __typename: "Channel", id: "Q2hhbm5lbDox" },
  customer: { __typename: "Customer", id: "Q3VzdG9tZXI6MQ==", name: "Maria Silva", phone: "5511987650001" },
  assignee: null,
  lastMessage: { __typename: "Message", id: "TWVzc2FnZTox", text: "Olá!", kind: "TEXT", direction: "INBOUND", status: "RECEIVED", createdAt: "2026-12-05T10:00:00Z" },
  slaTimers: [],
  ...over,
});

export const message = (over: Partial<Message> = {}): Message => ({
  id: "TWVzc2FnZToy",
  direction: "OUTBOUND",
  kind: "TEXT",
  text: "Hello",
  status: "SENT",
  clientMessageId: null,
  createdAt: "2026-12-05T10:01:00Z",
  ...over,
});
