import type { Client } from "graphql-ws";
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { follow } from "../api/live";
import { ASSIGN, CONVERSATION_EVENTS, MARK_READ, MESSAGES, REPLY_TARGETS, SEND } from "../api/operations";
import type { Session } from "../api/session";
import type { ConversationEvent, Message, ReplyTarget, User } from "../api/types";
import { applyMessage } from "../state/reducers";

const TICKS: Record<string, string> = { QUEUED: "⏱", SENT: "✓", DELIVERED: "✓✓", READ: "✓✓", FAILED: "⚠" };

interface Props { id: string; session: Session; live: Client; me: User; onError: (e: unknown) => void }

export function ConversationView({ id, session, live, me, onError }: Props) {
  const [messages, setMessages] = useState<Message[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  // Where the reply goes: any channel the customer can be reached on (the server says which and why not).
  const [targets, setTargets] = useState<ReplyTarget[]>([]);
  const [targetId, setTargetId] = useState<string | null>(null);
  // One client id per composed message, reused if the send is retried: the server stores it once.
  const pending = useRef<{ text: string; clientMessageId: string } | null>(null);
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // Replay from the start of the conversation's stream, then live: the list is complete.
    const stop = follow<ConversationEvent>(live, CONVERSATION_EVENTS, { id, after: "0" }, (event) => { const message = event.message; if (message) setMessages((list) => applyMessage(list, message)); }, onError, "conversationEvents");
    type Page = { conversation: { messages: { edges: { cursor: string; node: Message }[]; pageInfo: { hasPreviousPage: boolean } } } };
    session.request<Page>(MESSAGES, { id }).then((data) => {
      const page = data.conversation.messages;
      setMessages((list) => page.edges.reduce((acc, e) => applyMessage(acc, e.node), list));
      setOlderCursor(page.pageInfo.hasPreviousPage ? page.edges[0]?.cursor ?? null : null);
    }).catch(onError);
    session.request(MARK_READ, { id }).catch(onError);
    session.request<{ conversation: { replyTargets: ReplyTarget[] } }>(REPLY_TARGETS, { id }).then((data) => {
      setTargets(data.conversation.replyTargets);
      setTargetId(data.conversation.replyTargets.find((t) => t.isDefault)?.channelId ?? null);
    }).catch(onError);
    return stop;
  }, [id, session, live]);

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [messages.length]);

  const loadOlder = async () => {
    type Page = { conversation: { messages: { edges: { cursor: string; node: Message }[]; pageInfo: { hasPreviousPage: boolean } } } };
    const data = await session.request<Page>(MESSAGES, { id, before: olderCursor });
    const page = data.conversation.messages;
    setMessages((list) => page.edges.reduce((acc, e) => applyMessage(acc, e.node), list));
    setOlderCursor(page.pageInfo.hasPreviousPage ? page.edges[0]?.cursor ?? null : null);
  };

  const send = async () => {
    const text = draft.trim();
    if (!text) return;
    if (!pending.current || pending.current.text !== text) pending.current = { text, clientMessageId: crypto.randomUUID() };
    const { clientMessageId } = pending.current;
    setMessages((list) => applyMessage(list, { id: `local-${clientMessageId}`, direction: "OUTBOUND", kind: "TEXT", text, status: "QUEUED", clientMessageId, createdAt: new Date().toISOString(), sender: { id: me.id, name: me.name } }));
    try {
      const input = { conversationId: id, clientMessageId, text, ...(targetId ? { channelId: targetId } : {}) };
      const data = await session.request<{ sendMessage: Message }>(SEND, { input });
      setMessages((list) => applyMessage(list, data.sendMessage));
      pending.current = null;
      setDraft("");
    } catch (e) {
      onError(e); // the draft and its client id stay: pressing Enter again retries safely
    }
  };

  const onKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      void send();
    }
  };

  return (
    <section className="conversation">
      <div className="toolbar">
        <button onClick={() => session.request(ASSIGN, { id, user: me.id }).catch(onError)}>Assign to me</button>
      </div>
      <div className="messages">
        {olderCursor && <button className="older" onClick={() => void loadOlder().catch(onError)}>Older messages</button>}
        {messages.map((m) => (
          <div key={m.id} className={`bubble ${m.direction.toLowerCase()}`}>
            {m.attachments?.map((a, i) => <span key={i} className="chip">{a.kind.toLowerCase()} {a.filename ?? a.mimeType ?? ""}</span>)}
            <div className="text">{m.deletedAt ? <em>(unsent by the customer)</em> : m.text ?? `[${m.kind.toLowerCase()}]`}</div>
            <div className="meta">
              {m.platform && <span className={`platform ${m.platform.toLowerCase()}`}>{m.platform.toLowerCase()} · </span>}
              {m.editedAt && !m.deletedAt && <span>edited · </span>}
              {m.sender?.name && <span>{m.sender.name} · </span>}
              {new Date(m.createdAt).toLocaleTimeString()}
              {m.direction === "OUTBOUND" && <span className={`tick ${m.status.toLowerCase()}`} title={m.status}> {TICKS[m.status] ?? ""}</span>}
            </div>
            {m.status === "FAILED" && <div className="failed">{m.errorReason} {m.errorCode ? `(${m.errorCode})` : ""}</div>}
          </div>
        ))}
        <div ref={bottom} />
      </div>
      {targets.length > 0 && (
        <label className="reply-target">
          Reply via{" "}
          <select value={targetId ?? ""} onChange={(e) => setTargetId(e.target.value || null)}>
            {targets.map((t) => (
              <option key={t.channelId} value={t.channelId} disabled={!t.available} title={t.reason ?? ""}>
                {t.channelName} ({t.platform.toLowerCase()}){t.available ? "" : ` — ${t.reason}`}
              </option>
            ))}
          </select>
        </label>
      )}
      <textarea value={draft} onChange={(e) => setDraft(e.target.value)} onKeyDown={onKey} placeholder="Reply… (Enter sends, Shift+Enter for a new line)" />
    </section>
  );
}
