import { ArrowRightLeft, BellOff, Check, ChevronDown, Eye, Flag, Flame, MoreHorizontal, RotateCcw, UserMinus, UserPlus } from "lucide-react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "urql";
import { explain } from "@/api/errors";
import { follow } from "@/api/live";
import { ACTIVITIES, ADD_NOTE, ASSIGN, CONVERSATION, CONVERSATION_EVENTS, MARK_READ, MESSAGES, PRESENCE, REPLY_TARGETS, SEND, SET_PRIORITY, SET_STATUS, SET_TYPING } from "@/api/operations";
import type { Activity, Conversation, ConversationDetail, ConversationEvent, Message, ReplyTarget, Viewer } from "@/api/types";
import { Composer, type SendExtra } from "@/components/Composer";
import { CustomerPanel } from "@/components/conversation/CustomerPanel";
import { MentionAssist } from "@/components/conversation/MentionAssist";
import { SnoozePicker } from "@/components/conversation/SnoozePicker";
import { TransferDialog } from "@/components/conversation/TransferDialog";
import { useDirectory } from "@/components/inbox/useDirectory";
import { ErrorState } from "@/components/ErrorState";
import { PlatformIcon, platformLabel } from "@/components/PlatformIcon";
import { SlaBadge } from "@/components/SlaBadge";
import { Timeline, timeline } from "@/components/Timeline";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuSeparator, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Avatar, Skeleton } from "@/components/ui/misc";
import { useNow } from "@/hooks/useNow";
import { useServices } from "@/services";
import { useInbox } from "@/state/inbox";
import { applyMessage } from "@/state/reducers";
import { useUi } from "@/state/ui";

type MessagesPage = { conversation: { messages: { edges: { cursor: string; node: Message }[]; pageInfo: { hasPreviousPage: boolean } } } };

/** How long CUSTOMER_UPDATED events are gathered before the customer is read again: the stream
 * replayed on opening (or a merge announced with an edit) costs one read, not one per event. */
const CUSTOMER_REFRESH_MS = 150;

/** The conversation's messages and activities: the stream replayed from its start, then live, with
 * the last page loaded over HTTP at once (and older pages on demand). The same stream says when the
 * customer changed (another agent's attribute edit, a merge, a split): `onCustomer` then runs. */
function useTimeline(id: string, onCustomer: () => void = () => {}) {
  const { client, live } = useServices();
  const customerChanged = useRef(onCustomer);
  useEffect(() => {
    customerChanged.current = onCustomer;
  }, [onCustomer]);
  const [messages, setMessages] = useState<Message[]>([]);
  const [activities, setActivities] = useState<Activity[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const loadPage = useCallback(
    async (before: string | null) => {
      const r = await client.query<MessagesPage>(MESSAGES, { id, before }, { requestPolicy: "network-only" }).toPromise();
      if (r.error || !r.data) return setError(r.error);
      const page = r.data.conversation.messages;
      setMessages((list) => page.edges.reduce((acc, e) => applyMessage(acc, e.node), list));
      setOlderCursor(page.pageInfo.hasPreviousPage ? page.edges[0]?.cursor ?? null : null);
      setLoaded(true);
    },
    [client, id],
  );

  useEffect(() => {
    let customerTimer: ReturnType<typeof setTimeout> | null = null;
    const stop = follow<ConversationEvent>(
      live,
      CONVERSATION_EVENTS,
      { id, after: "0" },
      (event) => {
        const { message, activity } = event;
        if (message) setMessages((list) => applyMessage(list, message));
        if (activity) setActivities((list) => (list.some((a) => a.id === activity.id) ? list : [...list, activity]));
        if (event.type === "CUSTOMER_UPDATED" && customerTimer === null) {
          customerTimer = setTimeout(() => {
            customerTimer = null;
            customerChanged.current();
          }, CUSTOMER_REFRESH_MS);
        }
      },
      () => undefined,
      "conversationEvents",
      () => void loadPage(null),
    );
    void loadPage(null);
    void client
      .query<{ conversation: { activities: Activity[] } }>(ACTIVITIES, { id }, { requestPolicy: "network-only" })
      .toPromise()
      .then((r) => {
        const loadedActivities = r.data?.conversation.activities ?? [];
        setActivities((mine) => [...loadedActivities, ...mine.filter((a) => !loadedActivities.some((b) => b.id === a.id))]);
      });
    return () => {
      if (customerTimer !== null) clearTimeout(customerTimer);
      stop();
    };
  }, [id, live, client, loadPage]);

  return { messages, setMessages, activities, olderCursor, loaded, error, loadOlder: () => loadPage(olderCursor), retry: () => loadPage(null) };
}

function usePresence(id: string): Viewer[] {
  const { live } = useServices();
  const [viewers, setViewers] = useState<Viewer[]>([]);
  useEffect(
    () =>
      live.subscribe<{ conversationPresence: Viewer[] }>(
        { query: PRESENCE, variables: { id } },
        { next: (r) => r.data && setViewers(r.data.conversationPresence), error: () => undefined, complete: () => undefined },
      ),
    [id, live],
  );
  return viewers;
}

function Header({ c, detail, viewers }: { c: Conversation; detail: ConversationDetail | null; viewers: Viewer[] }) {
  const { t } = useTranslation();
  const { client, me } = useServices();
  const now = useNow();
  const showError = useUi((s) => s.showError);
  const name = c.customer.name || c.customer.phone || "—";

  const run = async (query: string, variables: Record<string, unknown>) => {
    const r = await client.mutation<Record<string, Conversation>>(query, variables).toPromise();
    if (r.error) {
      const e = explain(r.error, t);
      showError(e.message, e.code);
      return false;
    }
    const updated = r.data && Object.values(r.data)[0];
    if (updated) useInbox.getState().touch(updated);
    return true;
  };
  const status = (s: string, until: string | null = null) => run(SET_STATUS, { id: c.id, status: s, until });
  const [handing, setHanding] = useState<"transfer" | "escalate" | null>(null);
  const others = viewers.filter((v) => v.userId !== me.id);
  const closed = c.status === "RESOLVED" || c.status === "CLOSED";

  return (
    <header className="border-b bg-background px-5 py-2.5">
      <div className="flex items-center gap-3">
      <Avatar name={name} className="size-10" />
      <div className="min-w-0 flex-1">
        <h2 className="flex items-center gap-2 text-base font-semibold">
          <span className="truncate">{name}</span>
          <Badge variant={closed ? "secondary" : c.status === "OPEN" ? "success" : "warning"} data-status={c.status}>{t(`status.${c.status}`)}</Badge>
        </h2>
        <p className="flex items-center gap-1.5 truncate whitespace-nowrap text-xs text-muted-foreground">
          <PlatformIcon platform={c.platform} className="ring-0" /> {platformLabel(c.platform)}
          {c.customer.phone && <span>· {c.customer.phone}</span>}
          {c.assignee && <span>· {t("conversation.assignedTo", { name: c.assignee.name })}</span>}
          {detail?.queuePosition ? <span>· {t("inbox.queued", { position: detail.queuePosition })}</span> : null}
        </p>
      </div>
      <div className="flex shrink-0 items-center gap-2">
        <SlaBadge timers={c.slaTimers} now={now} />
        {others.length > 0 && (
          <span className="inline-flex items-center gap-1 rounded-full bg-amber-50 px-2 py-0.5 text-xs text-amber-900" role="status" data-testid="presence">
            <Eye className="size-3.5" aria-hidden /> {others.map((v) => t(v.typing ? "conversation.typing" : "conversation.viewing", { name: v.name })).join(" · ")}
          </span>
        )}
      </div>
      <div className="flex shrink-0 items-center gap-2">
        {closed ? (
          <Button size="sm" variant="outline" onClick={() => void status("OPEN")}>
            <RotateCcw aria-hidden /> {t("conversation.reopen")}
          </Button>
        ) : (
          <Button size="sm" variant="success" onClick={() => void status("RESOLVED")} aria-keyshortcuts="e">
            <Check aria-hidden /> {t("conversation.resolve")}
          </Button>
        )}
      </div>
      </div>
      <div className="mt-2 flex items-center gap-1.5 pl-13">
        {c.assignee?.id !== me.id && (
          <Button variant="outline" size="sm" onClick={() => void run(ASSIGN, { id: c.id, user: me.id })}>
            <UserPlus aria-hidden /> {t("conversation.assignMe")}
          </Button>
        )}
        <DropdownMenu>
          <DropdownMenuTrigger asChild>
            <Button variant="outline" size="sm" title={t("conversation.setPriority")}>
              <Flag aria-hidden /> <span className="sr-only">{t("conversation.setPriority")}: </span>
              {t(`priority.${c.priority}`)} <ChevronDown aria-hidden />
            </Button>
          </DropdownMenuTrigger>
          <DropdownMenuContent align="end">
            <DropdownMenuLabel>{t("conversation.setPriority")}</DropdownMenuLabel>
            {["URGENT", "HIGH", "NORMAL", "LOW"].map((p) => (
              <DropdownMenuItem key={p} onSelect={() => void run(SET_PRIORITY, { id: c.id, priority: p })}>
                {p === c.priority ? <Check aria-hidden /> : <span className="size-4" />} {t(`priority.${p}`)}
              </DropdownMenuItem>
            ))}
          </DropdownMenuContent>
        </DropdownMenu>
        {!closed && <SnoozePicker onSnooze={async (until) => (await status("SNOOZED", until)) === true} />}
        <DropdownMenu>
          <DropdownMenuTrigger asChild>
            <Button variant="outline" size="icon" aria-label={t("conversation.more")} title={t("conversation.more")}>
              <MoreHorizontal aria-hidden />
            </Button>
          </DropdownMenuTrigger>
          <DropdownMenuContent align="end">
            <DropdownMenuItem onSelect={() => setHanding("transfer")}><ArrowRightLeft aria-hidden /> {t("inbox-plus.transfer")}…</DropdownMenuItem>
            <DropdownMenuItem onSelect={() => setHanding("escalate")}><Flame aria-hidden /> {t("inbox-plus.escalate")}…</DropdownMenuItem>
            {c.assignee && (
              <>
                <DropdownMenuSeparator />
                <DropdownMenuItem onSelect={() => void run(ASSIGN, { id: c.id, user: null })}><UserMinus aria-hidden /> {t("inbox-plus.unassign")}</DropdownMenuItem>
              </>
            )}
          </DropdownMenuContent>
        </DropdownMenu>
        <TransferDialog key={handing ?? "closed"} c={c} mode={handing} onClose={() => setHanding(null)} />
      </div>
    </header>
  );
}

export default function ConversationPane({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const { client, me } = useServices();
  const showError = useUi((s) => s.showError);
  const live = useInbox((s) => s.known[id]);
  const [{ data, error: detailError }, reload] = useQuery<{ conversation: ConversationDetail }>({ query: CONVERSATION, variables: { id } });
  const [{ data: targetData }] = useQuery<{ conversation: { replyTargets: ReplyTarget[] } }>({ query: REPLY_TARGETS, variables: { id } });
  const detail = data?.conversation ?? null;
  const c: Conversation | null = live ?? detail;
  // Bumped when the stream says the customer changed: the panel's other reads (their other
  // conversations) are redone along with the customer itself.
  const [customerEpoch, setCustomerEpoch] = useState(0);
  const customerChanged = useCallback(() => {
    reload({ requestPolicy: "network-only" });
    setCustomerEpoch((n) => n + 1);
  }, [reload]);
  const { messages, setMessages, activities, olderCursor, loaded, error, loadOlder, retry } = useTimeline(id, customerChanged);
  const viewers = usePresence(id);
  const { people: directory } = useDirectory();
  const people = useMemo(() => directory.map((p) => p.name), [directory]);
  const items = useMemo(() => timeline(messages, activities), [messages, activities]);
  const bottom = useRef<HTMLDivElement>(null);
  const lastTyping = useRef(0);
  const pending = useRef<{ text: string; clientMessageId: string } | null>(null);

  useEffect(() => {
    void client.mutation(MARK_READ, { id }).toPromise();
  }, [client, id, messages.filter((m) => m.direction === "INBOUND").length]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [items.length]);

  const onSend = async (text: string, mode: "reply" | "note", channelId: string | null, extra?: SendExtra): Promise<boolean> => {
    // One client id per composed message, reused if the send is retried: the server stores it once.
    if (!pending.current || pending.current.text !== text) pending.current = { text, clientMessageId: crypto.randomUUID() };
    const { clientMessageId } = pending.current;
    if (mode === "reply") {
      setMessages((list) =>
        applyMessage(list, { id: `local-${clientMessageId}`, direction: "OUTBOUND", kind: "TEXT", text, status: "QUEUED", clientMessageId, createdAt: new Date().toISOString(), sender: { __typename: "User", id: me.id, name: me.name } }),
      );
    }
    const r =
      mode === "note"
        ? await client.mutation<{ addNote: Message }>(ADD_NOTE, { id, clientMessageId, text }).toPromise()
        : await client.mutation<{ sendMessage: Message }>(SEND, { input: { conversationId: id, clientMessageId, text: extra?.responseTemplate ? "" : text, ...(channelId ? { channelId } : {}), ...extra } }).toPromise();
    if (r.error || !r.data) {
      const e = explain(r.error, t);
      showError(e.message, e.code); // the draft and its client id stay: sending again is safe
      return false;
    }
    const saved = Object.values(r.data)[0] as Message;
    setMessages((list) => applyMessage(list, saved));
    pending.current = null;
    return true;
  };
  const onTyping = () => {
    if (Date.now() - lastTyping.current > 3000) {
      lastTyping.current = Date.now();
      void client.mutation(SET_TYPING, { id, typing: true }).toPromise();
    }
  };

  if (!c) {
    if (detailError) return <div className="flex flex-1 items-center justify-center"><ErrorState error={detailError} onRetry={() => reload({ requestPolicy: "network-only" })} /></div>;
    return (
      <div className="flex flex-1 flex-col gap-4 p-6" aria-busy="true">
        <Skeleton className="h-10 w-1/3" />
        <Skeleton className="h-16 w-1/2" />
        <Skeleton className="ml-auto h-16 w-1/2" />
      </div>
    );
  }
  return (
    <div className="flex min-w-0 flex-1">
      <section className="flex min-w-0 flex-1 flex-col" aria-label={c.customer.name ?? c.customer.phone ?? ""}>
        <Header c={c} detail={detail} viewers={viewers} />
        {c.status === "SNOOZED" && c.snoozedUntil && (
          <p className="flex items-center gap-2 border-b bg-warning-soft px-5 py-1.5 text-xs text-warning-strong" role="status" data-snoozed-until={c.snoozedUntil}>
            <BellOff className="size-3.5" aria-hidden /> {t("inbox-plus.snoozedUntil", { when: new Date(c.snoozedUntil).toLocaleString(i18n.language, { dateStyle: "full", timeStyle: "short" }) })}
          </p>
        )}
        <div className="min-h-0 flex-1 overflow-y-auto px-6 py-4" data-testid="timeline">
          {olderCursor && (
            <div className="mb-3 text-center">
              <Button variant="ghost" size="sm" onClick={() => void loadOlder()}>{t("conversation.olderMessages")}</Button>
            </div>
          )}
          {error && !loaded ? (
            <ErrorState error={error} onRetry={() => void retry()} />
          ) : !loaded && messages.length === 0 ? (
            <div className="space-y-3" aria-busy="true">
              <Skeleton className="h-14 w-1/2" />
              <Skeleton className="ml-auto h-14 w-2/5" />
              <Skeleton className="h-10 w-1/3" />
            </div>
          ) : (
            <Timeline items={items} people={people} />
          )}
          <div ref={bottom} />
        </div>
        <div className="border-t bg-canvas px-5 pb-4 pt-3">
          <MentionAssist people={people.filter((n) => n !== me.name)} isNoteBox={(box) => box.getAttribute("aria-label") === t("composer.note")}>
            <Composer targets={targetData?.conversation.replyTargets ?? []} onSend={onSend} onTyping={onTyping} conversationId={id} />
          </MentionAssist>
        </div>
      </section>
      <CustomerPanel c={c} detail={detail} reload={() => reload({ requestPolicy: "network-only" })} epoch={customerEpoch} />
    </div>
  );
}
