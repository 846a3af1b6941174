// Full-text search results: every message and customer the agent may see, best match first, the
// matched words marked in the customer's name and in the message that matched.
import { SearchX } from "lucide-react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { SearchQuery } from "@/api/graphql.generated";
import { SEARCH } from "@/api/operations";
import { ErrorState } from "@/components/ErrorState";
import { PlatformIcon } from "@/components/PlatformIcon";
import { Badge } from "@/components/ui/badge";
import { Avatar, Skeleton } from "@/components/ui/misc";
import { useNow } from "@/hooks/useNow";
import { listTime } from "@/lib/time";
import { cn } from "@/lib/utils";
import { useServices } from "@/services";
import { serverFilter } from "@/state/filters";
import { useSearch } from "@/state/search";
import { useUi } from "@/state/ui";
import { around, Highlight } from "./highlight";

const HIT_HEIGHT = 80;

function useSearchFeed() {
  const { client, me } = useServices();
  const filter = useUi((s) => s.filter);
  const text = filter.text.trim();
  const variables = useMemo(() => ({ query: text, filter: serverFilter(filter, me.id) }), [filter, text, me.id]);
  const key = JSON.stringify(variables);
  const load = async (after: string | null) => {
    useSearch.getState().start(key);
    const r = await client.query<SearchQuery>(SEARCH, { ...variables, after }, { requestPolicy: "network-only" }).toPromise();
    if (r.error || !r.data) return useSearch.getState().failed(key, r.error ?? new Error("no data"));
    const page = r.data.search;
    useSearch.getState().loaded(key, page.edges, page.pageInfo.endCursor, page.pageInfo.hasNextPage, after !== null);
  };
  useEffect(() => {
    useSearch.getState().start(key);
    const timer = setTimeout(() => void load(null), 250); // typing: one search when the typing pauses
    return () => clearTimeout(timer);
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  return { load, text };
}

export function SearchResults({ selectedId }: { selectedId: string | null }) {
  const { t, i18n } = useTranslation();
  const { load, text } = useSearchFeed();
  const { hits, loading, error, hasMore, endCursor } = useSearch();
  const now = useNow();
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: hits.length, getScrollElement: () => scroller.current, estimateSize: () => HIT_HEIGHT, overscan: 6, getItemKey: (i) => hits[i].node.id });
  const rows = virtualizer.getVirtualItems();
  const last = rows[rows.length - 1];
  useEffect(() => {
    if (last && last.index >= hits.length - 8 && hasMore && !loading) void load(endCursor);
  }, [last?.index, hits.length, hasMore, loading]); // eslint-disable-line react-hooks/exhaustive-deps

  if (error && hits.length === 0) return <ErrorState error={error} onRetry={() => void load(null)} />;
  if (loading && hits.length === 0)
    return (
      <div className="space-y-3 p-3" aria-busy="true">
        {Array.from({ length: 5 }, (_, i) => <Skeleton key={i} className="h-14 w-full" />)}
      </div>
    );
  if (hits.length === 0)
    return (
      <div className="flex flex-1 flex-col items-center justify-center gap-2 p-6 text-center">
        <div className="rounded-full bg-muted p-3"><SearchX className="size-5 text-muted-foreground" aria-hidden /></div>
        <p className="text-sm font-medium">{t("inbox-plus.noResults")}</p>
        <p className="text-xs text-muted-foreground">{t("inbox-plus.noResultsHint")}</p>
      </div>
    );
  return (
    <div ref={scroller} className="min-h-0 flex-1 overflow-y-auto" data-testid="search-results">
      <p className="px-3 py-1.5 text-[11px] font-medium uppercase tracking-wide text-muted-foreground" aria-live="polite">
        {t(hasMore ? "inbox-plus.resultsMore" : "inbox-plus.results", { count: hits.length })}
      </p>
      <ul aria-label={t("inbox-plus.resultsLabel")} className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
        {rows.map((row) => {
          const { node: c, matchedMessage } = hits[row.index];
          const name = c.customer.name || c.customer.phone || "—";
          const snippet = matchedMessage?.text ?? c.lastMessage?.text ?? "";
          return (
            <li key={row.key} className="absolute left-0 top-0 w-full" style={{ height: HIT_HEIGHT, transform: `translateY(${row.start}px)` }} aria-setsize={hits.length} aria-posinset={row.index + 1}>
              <Link to={`/inbox/${c.id}`} data-conversation={c.id} data-hit="" aria-current={c.id === selectedId ? "true" : undefined}
                className={cn("flex h-full gap-3 border-b border-l-2 border-l-transparent px-3 py-2.5 outline-none hover:bg-muted/60 focus-visible:bg-muted", c.id === selectedId && "border-l-primary bg-secondary/70")}>
                <span className="relative mt-0.5 block size-9 shrink-0">
                  <Avatar name={name} />
                  <PlatformIcon platform={c.platform} className="absolute -bottom-0.5 -right-1" />
                </span>
                <span className="flex min-w-0 flex-1 flex-col gap-0.5">
                  <span className="flex items-baseline gap-2">
                    <span className="truncate text-sm font-medium"><Highlight text={name} query={text} /></span>
                    {c.status !== "OPEN" && <Badge variant="secondary" className="shrink-0">{t(`status.${c.status}`)}</Badge>}
                    <span className="ml-auto shrink-0 text-[11px] text-muted-foreground">{listTime(matchedMessage?.createdAt ?? c.lastMessageAt, now, i18n.language, t("time.now"))}</span>
                  </span>
                  <span className="line-clamp-2 text-xs text-muted-foreground"><Highlight text={around(snippet, text)} query={text} /></span>
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
      {loading && <p className="p-3 text-center text-xs text-muted-foreground">{t("inbox.loadingMore")}</p>}
    </div>
  );
}
