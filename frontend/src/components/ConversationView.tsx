import type { Client } from "graphql-ws";
import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { follow } from "../api/live";
import {
  ACTIVITIES,
  ADD_NOTE,
  ASSIGN,
  CONVERSATION_EVENTS,
  MARK_READ,
  MESSAGES,
  PRESENCE,
  REPLY_TARGETS,
  SEND,
  SET_STATUS,
  SET_TYPING,
} from "../api/operations";
import type { Session } from "../api/session";
import type { Activity, ConversationEvent, Message, ReplyTarget, User, Viewer } from "../api/types";
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
  const [activities, setActivities] = useState<Activity[]>([]);
  const [status, setStatus] = useState<string>("");
  const [noteMode, setNoteMode] = useState(false);
  const [viewers, setViewers] = useState<Viewer[]>([]);
  const lastTyping = useRef(0);
  // One client id per composed message, reused if the send is retried: the server stores it once.
  const pending = useRef<{ text: string; clientMessageId: string } | null>(null);
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // Replay from the start of the conversation's stream, then live: the list is complete.
    const stop = follow<ConversationEvent>(live, CONVERSATION_EVENTS, { id, after: "0" }, (event) => {
      const message = event.message;
      const activity = event.activity;
      if (message) setMessages((list) => applyMessage(list, message));
      if (activity) setActivities((list) => (list.some((a) => a.id === activity.id) ? list : [...list, activity]));
      if (activity?.type === "status_changed") setStatus(String(activity.data.to).toUpperCase());
    }, onError, "conversationEvents");
    type Page = { conversation: { messages: { edges: { cursor: string; node: Message }[]; pageInfo: { hasPreviousPage: boolean } } } };
    session.request<Page>(MESSAGES, { id }).then((data) => {
      const page = data.conversation.messages;
      setMessages((list) => page.edges.reduce((acc, e) => applyMessage(acc, e.node), list));
      setOlderCursor(page.pageInfo.hasPreviousPage ? page.edges[0]?.cursor ?? null : null);
    }).catch(onError);
    session.request(MARK_READ, { id }).catch(onError);
    session.request<{ conversation: { status: string; activities: Activity[] } }>(ACTIVITIES, { id }).then((data) => {
      setActivities((live) => [...data.conversation.activities, ...live.filter((a) => !data.conversation.activities.some((b) => b.id === a.id))]);
      setStatus(data.conversation.status);
    }).catch(onError);
    // Who else has this conversation open (and typing): announced for as long as we watch.
    const stopPresence = live.subscribe<{ conversationPresence: Viewer[] }>(
      { query: PRESENCE, variables: { id } },
      { next: (r) => r.data && setViewers(r.data.conversationPresence), error: () => undefined, complete: () => undefined },
    );
    session.request<{ conversation: { replyTargets: ReplyTarget[] } }>(REPLY_TARGETS, { id }).then((data) => {
      setTargets(data.conversation.replyTargets);
      setTargetId(data.conversation.replyTargets.find((t) => t.isDefault)?.channelId ?? null);
    }).catch(onError);
    return () => {
      stop();
      stopPresence();
    };
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
    if (noteMode) {
      try {
        const data = await session.request<{ addNote: Message }>(ADD_NOTE, { id, clientMessageId, text });
        setMessages((list) => applyMessage(list, data.addNote));
        pending.current = null;
        setDraft("");
      } catch (e) {
        onError(e);
      }
      return;
    }
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

  const changeStatus = (next: string) => {
    const until = next === "SNOOZED" ? new Date(Date.now() + 3600_000).toISOString() : null;
    session.request(SET_STATUS, { id, status: next, until }).then(() => setStatus(next)).catch(onError);
  };

  const typing = (text: string) => {
    setDraft(text);
    if (!noteMode && Date.now() - lastTyping.current > 3000) {
      lastTyping.current = Date.now();
      session.request(SET_TYPING, { id, typing: true }).catch(() => undefined);
    }
  };

  // Messages and activities in one timeline, oldest first.
  const timeline: ({ kind: "message"; at: string; message: Message } | { kind: "activity"; at: string; activity: Activity })[] = [
    ...messages.map((m) => ({ kind: "message" as const, at: m.createdAt, message: m })),
    ...activities.map((a) => ({ kind: "activity" as const, at: a.createdAt, activity: a })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  const others = viewers.filter((v) => v.name !== me.name);

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
        <select value={status} onChange={(e) => changeStatus(e.target.value)} aria-label="Status">
          {["OPEN", "PENDING", "SNOOZED", "RESOLVED", "CLOSED"].map((s) => (
            <option key={s} value={s}>{s === "SNOOZED" ? "Snooze 1 h" : s.charAt(0) + s.slice(1).toLowerCase()}</option>
          ))}
        </select>
        {others.length > 0 && (
          <span className="presence">
            {others.map((v) => `${v.name} ${v.typing ? "is typing…" : "is viewing"}`).join(" · ")}
          </span>
        )}
      </div>
      <div className="messages">
        {olderCursor && <button className="older" onClick={() => void loadOlder().catch(onError)}>Older messages</button>}
        {timeline.map((item) => item.kind === "activity" ? (
          <div key={item.activity.id} className="activity">{describe(item.activity)}</div>
        ) : ((m) => (
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
        ))(item.message))}
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
      <label className="note-toggle"><input type="checkbox" checked={noteMode} onChange={(e) => setNoteMode(e.target.checked)} /> Internal note (not sent)</label>
      <textarea className={noteMode ? "note" : ""} value={draft} onChange={(e) => typing(e.target.value)} onKeyDown={onKey} placeholder="Reply… (Enter sends, Shift+Enter for a new line)" />
    </section>
  );
}

function describe(a: Activity): string {
  const who = a.actor?.name ?? "PyTake";
  const d = a.data as Record<string, string | number | null | string[]>;
  switch (a.type) {
    case "status_changed":
      return d.reason === "customer_wrote" ? `Reopened: the customer wrote` : d.reason === "snooze_ended" ? "Snooze ended" : `${who}: ${d.from} → ${d.to}`;
    case "assigned":
      return d.strategy === "manual" ? `${who} took it` : `Assigned automatically (${d.strategy})`;
    case "unassigned":
      return `${who} let it go`;
    case "transferred":
      return `${who} transferred it to ${d.to_name}: ${d.reason}`;
    case "escalated":
      return `${who} escalated it (level ${d.level}): ${d.reason}`;
    case "labels_changed":
      return `${who} labels: ${[...((d.added as string[]) ?? []).map((l) => `+${l}`), ...((d.removed as string[]) ?? []).map((l) => `-${l}`)].join(" ")}`;
    case "priority_changed":
      return `${who}: priority ${d.from} → ${d.to}`;
    case "sla_warning":
      return `SLA warning: ${d.kind} due soon`;
    case "sla_breached":
      return `SLA breached: ${d.kind}`;
    case "csat_sent":
      return "Satisfaction survey sent";
    case "csat_received":
      return d.comment ? `Customer's comment on the survey: ${d.comment}` : `Customer rated ${d.score}/5`;
    case "csat_late_answer":
      return `Late rating ${d.score}/5 (after the survey closed; not counted)`;
    default:
      return `${who}: ${a.type}`;
  }
}
