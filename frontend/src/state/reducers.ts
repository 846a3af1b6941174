// Pure state updates for live events: easy to test, impossible to apply twice.
import type { Conversation, Message, MessageStatus } from "../api/types";

const RANK: Record<MessageStatus, number> = { RECEIVED: 0, QUEUED: 0, SENT: 1, DELIVERED: 2, READ: 3, FAILED: 4, POSTED: 0 };

function newer(a: Conversation, b: Conversation): number {
  return (b.lastMessageAt ?? "").localeCompare(a.lastMessageAt ?? "") || b.id.localeCompare(a.id);
}

export function applyInboxEvent(list: Conversation[], conversation: Conversation, keep: (c: Conversation) => boolean = () => true): Conversation[] {
  const others = list.filter((c) => c.id !== conversation.id);
  return (keep(conversation) ? [...others, conversation] : others).sort(newer);
}

/** Statuses only move forward in the UI too (a late `delivered` never hides `read`). */
export function mergeStatus(current: MessageStatus, incoming: MessageStatus): MessageStatus {
  if (current === "FAILED") return current;
  return RANK[incoming] >= RANK[current] ? incoming : current;
}

export function applyMessage(list: Message[], message: Message): Message[] {
  const index = list.findIndex(
    (m) => m.id === message.id || (!!message.clientMessageId && m.clientMessageId === message.clientMessageId),
  );
  if (index === -1) return [...list, message].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const current = list[index];
  const merged = { ...current, ...message, status: mergeStatus(current.status, message.status) };
  return list.map((m, i) => (i === index ? merged : m));
}
