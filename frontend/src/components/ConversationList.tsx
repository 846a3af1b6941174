import { useVirtualizer } from "@tanstack/react-virtual";
import { Inbox, Search } from "lucide-react";
import { useEffect, useMemo, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { follow } from "@/api/live";
import { INBOX, INBOX_EVENTS } from "@/api/operations";
import type { Conversation, InboxEvent } from "@/api/types";
import { useNow } from "@/hooks/useNow";
import { listTime } from "@/lib/time";
import { cn } from "@/lib/utils";
import { useServices } from "@/services";
import { matches, serverFilter, type Tab } from "@/state/filters";
import { takeFirstPage, useInbox } from "@/state/inbox";
import { useUi } from "@/state/ui";
import { useSelection } from "@/state/selection";
import { searching } from "@/state/search";
import { ErrorState } from "./ErrorState";
import { BulkBar } from "./inbox/BulkBar";
import { ANY, FilterChips, FilterPopover, PLATFORMS } from "./inbox/FilterPopover";
import { SavedViews } from "./inbox/SavedViews";
import { SearchResults } from "./inbox/SearchResults";
import { PlatformIcon, platformLabel } from "./PlatformIcon";
import { SlaBadge } from "./SlaBadge";
import { Badge } from "./ui/badge";
import { Checkbox } from "./ui/checkbox";
import { Avatar, Skeleton } from "./ui/misc";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "./ui/select";

export const ROW_HEIGHT = 84;
const STATUSES = ["OPEN", "PENDING", "SNOOZED", "RESOLVED", "CLOSED"];

type Page = { conversations: { edges: { node: Conversation }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

/** Load the list for the filter and keep it live: subscribe from now first, then load page one,
 * so an event in between is applied on top rather than lost. */
function useInboxFeed() {
  const { client, live, me } = useServices();
  const filter = useUi((s) => s.filter);
  // the list follows every filter but the search text (search has its own results)
  const serverKey = JSON.stringify(serverFilter({ ...filter, text: "" }, me.id));
  const server = useMemo(() => JSON.parse(serverKey) as Record<string, unknown>, [serverKey]);
  const keep = useMemo(() => (c: Conversation) => matches(c, { ...filter, text: "" }, me.id), [serverKey]); // eslint-disable-line react-hooks/exhaustive-deps
  const generation = useRef(0);

  const loadPage = useMemo(
    () => async (after: string | null, mine: number) => {
      const store = useInbox.getState();
      store.setLoading(true);
      if (!after) performance.mark("pytake:inbox-requested");
      const early = after ? null : takeFirstPage(JSON.stringify(server));
      const result = early
        ? await early.then((data) => ({ data, error: undefined }), (error: unknown) => ({ data: undefined, error }))
        : await client.query<Page>(INBOX, { filter: server, after }, { requestPolicy: "network-only" }).toPromise();
      if (mine !== generation.current) return;
      if (result.error || !result.data) return useInbox.getState().setError(result.error ?? new Error("no data"));
      const page = result.data.conversations;
      useInbox.getState().loaded(page.edges.map((e) => e.node), page.pageInfo.endCursor, page.pageInfo.hasNextPage, keep);
      if (!after) performance.mark("pytake:inbox-loaded");
    },
    [client, server, keep],
  );

  useEffect(() => {
    const mine = ++generation.current;
    useInbox.getState().reset();
    const stop = follow<InboxEvent>(
      live,
      INBOX_EVENTS,
      {},
      // A conversation that left this agent's sight (moved to another team, access narrowed) goes.
      (event) => useInbox.getState().apply(event.conversation, event.type === "CONVERSATION_REMOVED" ? () => false : keep),
      () => undefined, // a failing stream retries by itself; the link dot shows the state
      "inboxEvents",
      () => void loadPage(null, mine), // the stream lost its place: load the list afresh
    );
    void loadPage(null, mine);
    return stop;
  }, [live, loadPage, keep]);

  const more = () => {
    const s = useInbox.getState();
    if (s.hasMore && !s.loading && s.endCursor) void loadPage(s.endCursor, generation.current);
  };
  const retry = () => void loadPage(null, generation.current);
  return { more, retry };
}

function Filters() {
  const { t } = useTranslation();
  const filter = useUi((s) => s.filter);
  const setFilter = useUi((s) => s.setFilter);
  const focusSearch = useUi((s) => s.focusSearch);
  const search = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (focusSearch) search.current?.focus();
  }, [focusSearch]);

  return (
    <div className="space-y-2 border-b px-3 pb-3">
      <div role="tablist" aria-label={t("inbox.title")} className="flex rounded-lg bg-muted p-0.5">
        {(["mine", "unassigned", "all"] as Tab[]).map((tab) => (
          <button
            key={tab}
            role="tab"
            aria-selected={filter.tab === tab}
            onClick={() => setFilter({ tab })}
            className={cn(
              "flex-1 whitespace-nowrap rounded-md px-2 py-1 text-xs font-medium text-muted-foreground transition-colors focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
              filter.tab === tab && "bg-background text-foreground shadow-sm",
            )}
          >
            {t(`inbox.${tab}`)}
          </button>
        ))}
      </div>
      <div className="relative">
        <Search className="pointer-events-none absolute left-2.5 top-1/2 size-3.5 -translate-y-1/2 text-muted-foreground" aria-hidden />
        <input
          ref={search}
          type="search"
          value={filter.text}
          onChange={(e) => setFilter({ text: e.target.value })}
          onKeyDown={(e) => e.key === "Escape" && (e.currentTarget.blur(), setFilter({ text: "" }))}
          placeholder={t("inbox-plus.searchPlaceholder")}
          aria-label={t("inbox-plus.searchLabel")}
          className="h-8 w-full rounded-md border border-input bg-background pl-8 pr-8 text-xs placeholder:text-muted-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
        />
        <kbd className="pointer-events-none absolute right-2 top-1/2 -translate-y-1/2 rounded border bg-muted px-1 font-mono text-[10px] text-muted-foreground">/</kbd>
      </div>
      <div className="flex items-center gap-1.5">
        <Select value={filter.status || ANY} onValueChange={(v) => setFilter({ status: v === ANY ? "" : v })}>
          <SelectTrigger aria-label={t("inbox.status")} className="flex-1"><SelectValue /></SelectTrigger>
          <SelectContent>
            <SelectItem value={ANY}>{t("inbox.anyStatus")}</SelectItem>
            {STATUSES.map((s) => <SelectItem key={s} value={s}>{t(`status.${s}`)}</SelectItem>)}
          </SelectContent>
        </Select>
        <Select value={filter.platform || ANY} onValueChange={(v) => setFilter({ platform: v === ANY ? "" : v })}>
          <SelectTrigger aria-label={t("inbox.platform")} className="flex-1"><SelectValue /></SelectTrigger>
          <SelectContent>
            <SelectItem value={ANY}>{t("inbox.anyPlatform")}</SelectItem>
            {PLATFORMS.map((p) => <SelectItem key={p} value={p}>{platformLabel(p)}</SelectItem>)}
          </SelectContent>
        </Select>
        <FilterPopover />
      </div>
      <FilterChips />
    </div>
  );
}

/** A row's tick box for bulk changes, beside (not inside) the row's link. */
function RowCheck({ c }: { c: Conversation }) {
  const { t } = useTranslation();
  const on = useSelection((s) => s.ids.includes(c.id));
  const any = useSelection((s) => s.ids.length > 0);
  const name = c.customer.name || c.customer.phone || "—";
  return (
    <span className={cn("absolute left-3 top-3 z-10 flex size-9 items-center justify-center rounded-full bg-background ring-1 ring-border transition-opacity focus-within:opacity-100 group-hover/row:opacity-100", on || any ? "opacity-100" : "opacity-0")}>
      <Checkbox checked={on} onCheckedChange={() => useSelection.getState().toggle(c.id)} aria-label={t("inbox-plus.select", { name })} data-select={c.id} />
    </span>
  );
}

export function ConversationRow({ c, selected, now }: { c: Conversation; selected: boolean; now: number }) {
  const { t, i18n } = useTranslation();
  const name = c.customer.name || c.customer.phone || "—";
  const preview = c.lastMessage?.text ?? (c.lastMessage ? `[${c.lastMessage.kind.toLowerCase()}]` : "");
  const failed = useSelection((s) => s.errors[c.id]);
  return (
    <Link
      to={`/inbox/${c.id}`}
      aria-current={selected ? "true" : undefined}
      data-conversation={c.id}
      className={cn(
        "group flex h-full gap-3 border-b border-l-2 border-l-transparent px-3 py-2.5 outline-none transition-colors hover:bg-muted/60 focus-visible:bg-muted",
        selected && "border-l-primary bg-secondary/70 hover:bg-secondary/70",
      )}
    >
      <span className="relative mt-0.5 block size-9 shrink-0">
        <Avatar name={name} />
        <PlatformIcon platform={c.platform} className="absolute -bottom-0.5 -right-1" />
      </span>
      <span className="flex min-w-0 flex-1 flex-col gap-0.5">
        <span className="flex items-baseline gap-2">
          <span className={cn("truncate text-sm", c.unreadCount > 0 ? "font-semibold text-foreground" : "font-medium")}>{name}</span>
          <span className="ml-auto shrink-0 text-[11px] text-muted-foreground">{listTime(c.lastMessageAt, now, i18n.language, t("time.now"))}</span>
        </span>
        <span className="flex items-center gap-2">
          <span className={cn("truncate text-xs", c.unreadCount > 0 ? "text-foreground" : "text-muted-foreground")}>
            {c.lastMessage?.direction === "OUTBOUND" ? t("inbox.you") : ""}
            {preview}
          </span>
          {c.unreadCount > 0 && (
            <span className="ml-auto flex h-4.5 min-w-4.5 shrink-0 items-center justify-center rounded-full bg-primary px-1.5 text-[10px] font-semibold text-white" data-unread={c.unreadCount}>
              <span aria-hidden>{c.unreadCount}</span>
              <span className="sr-only">{t("inbox.unread", { count: c.unreadCount })}</span>
            </span>
          )}
        </span>
        <span className="flex items-center gap-1.5 overflow-hidden">
          <SlaBadge timers={c.slaTimers} now={now} />
          {c.priority && c.priority !== "NORMAL" && (
            <Badge variant={c.priority === "URGENT" || c.priority === "HIGH" ? "danger" : "outline"}>{t(`priority.${c.priority}`)}</Badge>
          )}
          {c.status !== "OPEN" && <Badge variant="secondary">{t(`status.${c.status}`)}</Badge>}
          {failed ? (
            <span className="ml-auto truncate text-[11px] font-medium text-destructive" role="note" data-row-error={failed.code} title={failed.message}>
              {t(`errors.code.${failed.code}`, { defaultValue: failed.message })}
            </span>
          ) : (
            <span className="ml-auto truncate text-[11px] text-muted-foreground">{c.assignee ? c.assignee.name : t("inbox.unassignedShort")}</span>
          )}
        </span>
      </span>
    </Link>
  );
}

export function ConversationList({ visible, selectedId }: { visible: Conversation[]; selectedId: string | null }) {
  const { t } = useTranslation();
  const { more, retry } = useInboxFeed();
  const loading = useInbox((s) => s.loading);
  const error = useInbox((s) => s.error);
  const hasMore = useInbox((s) => s.hasMore);
  const now = useNow();
  const scroller = useRef<HTMLDivElement>(null);
  const text = useUi((s) => s.filter.text);
  const selecting = useSelection((s) => s.ids.length > 0 || s.updated !== null);
  const virtualizer = useVirtualizer({
    count: visible.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    getItemKey: (i) => visible[i].id,
  });
  const rows = virtualizer.getVirtualItems();
  const last = rows[rows.length - 1];
  useEffect(() => {
    if (last && last.index >= visible.length - 15 && hasMore) more();
  }, [last?.index, visible.length, hasMore]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    const at = visible.findIndex((c) => c.id === selectedId);
    if (at >= 0) virtualizer.scrollToIndex(at, { align: "auto" });
  }, [selectedId]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <aside aria-label={t("inbox.title")} className="flex w-80 shrink-0 flex-col border-r bg-background">
      <header className="flex items-baseline justify-between px-3 pb-2 pt-3">
        <h1 className="text-base font-semibold">{t("inbox.title")}</h1>
        <span className="text-xs text-muted-foreground" aria-live="polite" data-testid="inbox-count">{t(hasMore ? "inbox.countMore" : "inbox.count", { count: visible.length })}</span>
      </header>
      <SavedViews />
      <Filters />
      {selecting && <BulkBar visibleIds={visible.map((c) => c.id)} />}
      {searching(text) ? (
        <SearchResults selectedId={selectedId} />
      ) : error && visible.length === 0 ? (
        <ErrorState error={error} onRetry={retry} />
      ) : loading && visible.length === 0 ? (
        <div className="space-y-1 p-3" aria-busy="true">
          {Array.from({ length: 7 }, (_, i) => (
            <div key={i} className="flex gap-3 py-2">
              <Skeleton className="size-9 rounded-full" />
              <div className="flex-1 space-y-2">
                <Skeleton className="h-3 w-2/3" />
                <Skeleton className="h-3 w-full" />
              </div>
            </div>
          ))}
        </div>
      ) : visible.length === 0 ? (
        <div className="flex flex-1 flex-col items-center justify-center gap-1 p-6 text-center">
          <div className="mb-1 rounded-full bg-muted p-3"><Inbox className="size-5 text-muted-foreground" aria-hidden /></div>
          <p className="text-sm font-medium">{t("inbox.empty")}</p>
          <p className="text-xs text-muted-foreground">{t("inbox.emptyHint")}</p>
        </div>
      ) : (
        <div ref={scroller} className="min-h-0 flex-1 overflow-y-auto" data-testid="inbox-scroller">
          <ul role="list" aria-label={t("inbox.title")} className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
            {rows.map((row) => {
              const c = visible[row.index];
              return (
                <li
                  key={row.key}
                  className="group/row absolute left-0 top-0 w-full"
                  style={{ height: ROW_HEIGHT, transform: `translateY(${row.start}px)` }}
                  aria-setsize={visible.length}
                  aria-posinset={row.index + 1}
                >
                  <RowCheck c={c} />
                  <ConversationRow c={c} selected={c.id === selectedId} now={now} />
                </li>
              );
            })}
          </ul>
          {loading && <p className="p-3 text-center text-xs text-muted-foreground">{t("inbox.loadingMore")}</p>}
        </div>
      )}
    </aside>
  );
}
