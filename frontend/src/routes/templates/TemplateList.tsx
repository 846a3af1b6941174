// The response templates: categories on the left, search and tag filters, a table with how often
// each was used (by everyone and by you).
import { Archive, FileText, Plus, Search, Tag, X } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useQuery } from "urql";
import type { TplListQuery, TplListQueryVariables } from "@/api/graphql.generated";
import { TPL_LIST } from "@/api/ops/templates";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/misc";
import { Switch } from "@/components/ui/switch";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { cn } from "@/lib/utils";
import { formatDate, PageFrame, useCanEdit } from "./common";

function useDebounced<T>(value: T, ms = 250): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

export function TemplateList() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const editor = useCanEdit();
  const [search, setSearch] = useState("");
  const [category, setCategory] = useState<string | null>(null);
  const [tag, setTag] = useState<string | null>(null);
  const [archived, setArchived] = useState(false);
  const query = useDebounced(search.trim());
  const [all] = useQuery<TplListQuery, TplListQueryVariables>({ query: TPL_LIST, variables: { archived: false } });
  const [{ data, fetching, error }, refetch] = useQuery<TplListQuery, TplListQueryVariables>({
    query: TPL_LIST,
    variables: { query: query || null, category, tag, archived },
  });
  const facets = useMemo(() => {
    const categories = new Map<string, number>();
    const tags = new Map<string, number>();
    for (const { node } of all.data?.templates.edges ?? []) {
      if (node.category) categories.set(node.category, (categories.get(node.category) ?? 0) + 1);
      for (const x of node.tags) tags.set(x, (tags.get(x) ?? 0) + 1);
    }
    return { categories: [...categories].sort(), tags: [...tags].sort((a, b) => b[1] - a[1]).slice(0, 16) };
  }, [all.data]);
  const rows = data?.templates.edges.map((e) => e.node) ?? [];
  const total = all.data?.templates.edges.length ?? 0;
  const filtered = Boolean(query || category || tag || archived);

  return (
    <PageFrame
      title={t("templates.title")}
      subtitle={t("templates.subtitle")}
      actions={
        editor && (
          <Button asChild>
            <Link to="/templates/new">
              <Plus aria-hidden /> {t("templates.new")}
            </Link>
          </Button>
        )
      }
    >
      <div className="grid grid-cols-[13rem_1fr] gap-6">
        <aside aria-label={t("templates.categories")}>
          <h2 className="mb-2 px-2 text-xs font-semibold uppercase tracking-wide text-muted-foreground">{t("templates.categories")}</h2>
          <ul className="space-y-0.5">
            {[[null, total] as const, ...facets.categories].map(([name, count]) => (
              <li key={name ?? "*"}>
                <button
                  type="button"
                  aria-pressed={category === name}
                  onClick={() => setCategory(name)}
                  className={cn(
                    "flex w-full items-center justify-between rounded-md px-2 py-1.5 text-left text-sm transition hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
                    category === name && "bg-background font-medium shadow-sm ring-1 ring-border",
                  )}
                >
                  <span className={cn("truncate", name && "capitalize")}>{name ?? t("templates.allCategories")}</span>
                  <span className="text-xs tabular-nums text-muted-foreground">{count}</span>
                </button>
              </li>
            ))}
          </ul>
          {facets.tags.length > 0 && (
            <>
              <h2 className="mb-2 mt-6 px-2 text-xs font-semibold uppercase tracking-wide text-muted-foreground">{t("templates.tags")}</h2>
              <div className="flex flex-wrap gap-1.5 px-1">
                {facets.tags.map(([name]) => (
                  <button
                    key={name}
                    type="button"
                    aria-pressed={tag === name}
                    onClick={() => setTag(tag === name ? null : name)}
                    className={cn(
                      "inline-flex items-center gap-1 rounded-full border border-border bg-background px-2 py-0.5 text-xs text-muted-foreground transition hover:border-primary/40 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
                      tag === name && "border-primary bg-primary/10 text-primary",
                    )}
                  >
                    <Tag className="size-3" aria-hidden /> {name}
                  </button>
                ))}
              </div>
            </>
          )}
        </aside>
        <section className="min-w-0">
          <div className="mb-3 flex items-center gap-3">
            <div className="relative flex-1">
              <Search className="pointer-events-none absolute left-2.5 top-1/2 size-4 -translate-y-1/2 text-muted-foreground" aria-hidden />
              <Input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder={t("templates.search")} aria-label={t("templates.searchLabel")} className="pl-8" />
            </div>
            {tag && (
              <Badge variant="info" className="h-7 px-2.5 text-xs">
                <Tag aria-hidden /> {tag}
                <button type="button" onClick={() => setTag(null)} aria-label={t("templates.clearTag")} className="ml-0.5 rounded-full hover:bg-info-strong/10">
                  <X aria-hidden />
                </button>
              </Badge>
            )}
            <label className="flex items-center gap-2 text-sm text-muted-foreground">
              <Switch checked={archived} onCheckedChange={setArchived} aria-label={t("templates.showArchived")} />
              {t("templates.showArchived")}
            </label>
          </div>
          {error ? (
            <ErrorState error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} />
          ) : fetching && !data ? (
            <div className="space-y-2" aria-busy="true">
              {[0, 1, 2, 3].map((i) => <Skeleton key={i} className="h-12 w-full" />)}
            </div>
          ) : rows.length === 0 ? (
            <EmptyState
              icon={<FileText />}
              title={filtered ? t("templates.noMatch") : t("templates.empty")}
              description={filtered ? t("templates.noMatchHint") : t(editor ? "templates.emptyHint" : "templates.emptyHintAgent")}
              action={
                !filtered && editor ? (
                  <Button asChild>
                    <Link to="/templates/new"><Plus aria-hidden /> {t("templates.new")}</Link>
                  </Button>
                ) : undefined
              }
            />
          ) : (
            <Table aria-label={t("templates.responseTemplates")}>
              <THead>
                <tr>
                  <Th>{t("templates.col.name")}</Th>
                  <Th>{t("templates.col.category")}</Th>
                  <Th numeric>{t("templates.col.used")}</Th>
                  <Th numeric>{t("templates.col.mine")}</Th>
                  <Th numeric>{t("templates.col.version")}</Th>
                  <Th>{t("templates.col.updated")}</Th>
                </tr>
              </THead>
              <TBody>
                {rows.map((x) => (
                  <Tr key={x.id} className="cursor-pointer" onClick={() => navigate(`/templates/${x.id}`)} data-template={x.name} data-uses={x.usageCount} data-mine={x.myUsageCount}>
                    <Td className="max-w-0 w-[45%]">
                      <div className="flex items-center gap-2">
                        <Link to={`/templates/${x.id}`} className="truncate font-medium hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring" onClick={(e) => e.stopPropagation()}>
                          {x.name}
                        </Link>
                        {x.shortcut && <code className="shrink-0 rounded bg-muted px-1.5 py-0.5 font-mono text-[11px] text-muted-foreground">{x.shortcut}</code>}
                        {x.archivedAt && (
                          <Badge variant="secondary"><Archive aria-hidden /> {t("templates.archived")}</Badge>
                        )}
                      </div>
                      <p className="mt-0.5 truncate text-xs text-muted-foreground">{x.body}</p>
                      {x.tags.length > 0 && (
                        <div className="mt-1 flex flex-wrap gap-1">
                          {x.tags.map((name) => <Badge key={name} variant="outline">{name}</Badge>)}
                        </div>
                      )}
                    </Td>
                    <Td className="capitalize">{x.category ?? <span className="text-muted-foreground">—</span>}</Td>
                    <Td numeric className="font-medium">{x.usageCount.toLocaleString(i18n.language)}</Td>
                    <Td numeric className="text-muted-foreground">{x.myUsageCount.toLocaleString(i18n.language)}</Td>
                    <Td numeric><Badge variant="outline">v{x.version}</Badge></Td>
                    <Td className="whitespace-nowrap text-xs text-muted-foreground">{formatDate(x.updatedAt, i18n.language)}</Td>
                  </Tr>
                ))}
              </TBody>
            </Table>
          )}
        </section>
      </div>
    </PageFrame>
  );
}
