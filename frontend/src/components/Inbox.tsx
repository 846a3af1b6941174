import type { Client } from "graphql-ws";
import { useEffect, useState } from "react";
import { follow } from "../api/live";
import { INBOX, INBOX_EVENTS } from "../api/operations";
import type { Session } from "../api/session";
import type { Conversation, InboxEvent, User } from "../api/types";
import { applyInboxEvent } from "../state/reducers";

type Tab = "mine" | "unassigned" | "all";

interface Props {
  session: Session;
  live: Client;
  me: User;
  openId: string | null;
  onOpen: (id: string) => void;
  onError: (e: unknown) => void;
}

export function Inbox({ session, live, me, openId, onOpen, onError }: Props) {
  const [tab, setTab] = useState<Tab>("all");
  const [status, setStatus] = useState<string>("OPEN");
  const [items, setItems] = useState<Conversation[]>([]);

  useEffect(() => {
    const filter = {
      ...(status ? { status: [status] } : {}),
      ...(tab === "mine" ? { assigneeId: me.id } : {}),
      ...(tab === "unassigned" ? { unassigned: true } : {}),
    };
    const keep = (c: Conversation) =>
      (!status || c.status === status) &&
      (tab !== "mine" || c.assignee?.id === me.id) &&
      (tab !== "unassigned" || c.assignee === null);
    let stop = () => {};
    let cancelled = false;
    // Subscribe from "now" first, then load the list: an event in between is applied on top.
    stop = follow<InboxEvent>(live, INBOX_EVENTS, {}, (event) => setItems((list) => applyInboxEvent(list, event.conversation, keep)), onError, "inboxEvents");
    session
      .request<{ conversations: { edges: { node: Conversation }[] } }>(INBOX, { filter })
      .then((data) => {
        if (!cancelled) setItems((live) => data.conversations.edges.reduce((list, e) => applyInboxEvent(list, e.node, keep), live));
      })
      .catch(onError);
    return () => {
      cancelled = true;
      stop();
    };
  }, [session, live, me.id, tab, status]);

  return (
    <aside className="inbox">
      <nav>
        {(["mine", "unassigned", "all"] as Tab[]).map((t) => (
          <button key={t} className={t === tab ? "active" : ""} onClick={() => { setItems([]); setTab(t); }}>
            {t === "mine" ? "Mine" : t === "unassigned" ? "Unassigned" : "All"}
          </button>
        ))}
        <select value={status} onChange={(e) => { setItems([]); setStatus(e.target.value); }}>
          <option value="">Any status</option>
          <option value="OPEN">Open</option>
          <option value="PENDING">Pending</option>
          <option value="SNOOZED">Snoozed</option>
          <option value="RESOLVED">Resolved</option>
          <option value="CLOSED">Closed</option>
        </select>
      </nav>
      <ul>
        {items.map((c) => (
          <li key={c.id} className={c.id === openId ? "open" : ""} onClick={() => onOpen(c.id)}>
            <div className="row">
              <span className="name">{c.customer.name || c.customer.phone}</span>
              <span className="badge">{c.platform.toLowerCase()}</span>
              {c.priority && c.priority !== "NORMAL" && <span className={`badge priority ${c.priority.toLowerCase()}`}>{c.priority.toLowerCase()}</span>}
              {c.labels?.map((l) => <span key={l} className="chip">{l}</span>)}
            </div>
            <div className="row">
              <span className="preview">{c.lastMessage?.direction === "OUTBOUND" ? "You: " : ""}{c.lastMessage?.text ?? ""}</span>
              {c.unreadCount > 0 && <span className="unread">{c.unreadCount}</span>}
            </div>
            <div className="row meta">
              <span>{c.assignee ? c.assignee.name : "unassigned"}</span>
              <span>{c.lastMessageAt ? new Date(c.lastMessageAt).toLocaleTimeString() : ""}</span>
            </div>
          </li>
        ))}
        {items.length === 0 && <li className="none">No conversations</li>}
      </ul>
    </aside>
  );
}
