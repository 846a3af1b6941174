// Full-text search results: every message and customer the agent may see, best match first, the
// matched words marked in the customer's name and in the message that matched.
import { SearchX } from "lucide-react";
import { useEffect, useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import type { SearchQuery } from "@/api/graphql.generated";
import { SEARCH } from "@/api/operations";
import { ErrorState } from "@/components/ErrorState";
import { PlatformIcon } from "@/components/PlatformIcon";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Avatar, Skeleton } from "@/components/ui/misc";
import { useNow } from "@/hooks/useNow";
import { listTime } from "@/lib/time";
import { cn } from "@/lib/utils";
import { useServices } from "@/services";
import { serverFilter } from "@/state/filters";
import { useSearch } from "@/state/search";
import { useUi } from "@/state/ui";
import { around, Highlight } from "./highlight";

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
    <div className="min-h-0 flex-1 overflow-y-auto" data-testid="search-results">
      <p className="px-3 py-1.5 text-[11px] font-medium uppercase tracking-wide text-muted-foreground">{t("inbox-plus.results", { count: hits.length })}</p>
      <ul aria-label={t("inbox-plus.resultsLabel")}>
        {hits.map(({ node: c, matchedMessage }) => {
          const name = c.customer.name || c.customer.phone || "—";
          const snippet = matchedMessage?.text ?? c.lastMessage?.text ?? "";
          return (
            <li key={c.id}>
              <Link to={`/inbox/${c.id}`} data-conversation={c.id} data-hit="" aria-current={c.id === selectedId ? "true" : undefined}
                className={cn("flex gap-3 border-b border-l-2 border-l-transparent px-3 py-2.5 outline-none hover:bg-muted/60 focus-visible:bg-muted", c.id === selectedId && "border-l-primary bg-secondary/70")}>
                <span className="relative mt-0.5 block size-9 shrink-0">
                  <Avatar name={name} />
                  <PlatformIcon platform={c.platform} className="absolute -bottom-0.5 -right-1" />
                </span>
                <span className="flex min-w-0 flex-1 flex-col gap-0.5">
                  <span className="flex items-baseline gap-2">
                    <span className="truncate text-sm font-medium"><Highlight text={name} query={text} /></span>
                    <span className="ml-auto shrink-0 text-[11px] text-muted-foreground">{listTime(matchedMessage?.createdAt ?? c.lastMessageAt, now, i18n.language, t("time.now"))}</span>
                  </span>
                  <span className="line-clamp-2 text-xs text-muted-foreground"><Highlight text={around(snippet, text)} query={text} /></span>
                  {c.status !== "OPEN" && <span><Badge variant="secondary">{t(`status.${c.status}`)}</Badge></span>}
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
      {hasMore && (
        <div className="p-2 text-center">
          <Button variant="ghost" size="sm" disabled={loading} onClick={() => void load(endCursor)}>{t("inbox-plus.moreResults")}</Button>
        </div>
      )}
    </div>
  );
}
