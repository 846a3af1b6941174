// A template's versions, newest first: what changed between any two (a unified diff) and a
// rollback to an old one (a new version equal to it; rollbackTemplate).
import { GitCompare, History, RotateCcw } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useClient, useQuery } from "urql";
import { explain } from "@/api/errors";
import type { TplDetailQuery, TplDiffQuery, TplDiffQueryVariables } from "@/api/graphql.generated";
import { TPL_DIFF, TPL_ROLLBACK } from "@/api/ops/templates";
import { ErrorState } from "@/components/ErrorState";
import { diffLines } from "@/components/templates/logic";
import { AlertDialog, AlertDialogContent, AlertDialogTrigger } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardHeader, EmptyState } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { cn } from "@/lib/utils";
import { useUi } from "@/state/ui";
import { formatDate } from "./common";

type Template = TplDetailQuery["template"];

const LINE_STYLE = {
  add: "bg-success-soft text-success-strong",
  remove: "bg-danger-soft text-danger-strong",
  hunk: "bg-info-soft text-info-strong",
  file: "text-muted-foreground font-semibold",
  context: "text-foreground/80",
} as const;

export function DiffView({ id, from, to }: { id: string; from: number; to: number }) {
  const { t } = useTranslation();
  const [{ data, error, fetching }] = useQuery<TplDiffQuery, TplDiffQueryVariables>({ query: TPL_DIFF, variables: { id, from, to } });
  if (error) return <ErrorState error={error} compact />;
  if (fetching && !data) return <Skeleton className="h-40 w-full" />;
  const diff = data?.template.diff;
  if (!diff) return null;
  const lines = diffLines(diff.unified);
  return (
    <div>
      <div className="mb-2 flex flex-wrap items-center gap-1.5 text-xs text-muted-foreground">
        {t("templates.versions.changed")}
        {diff.changedFields.length ? diff.changedFields.map((f) => <Badge key={f} variant="outline" className="font-mono">{f}</Badge>) : <span>{t("templates.versions.nothing")}</span>}
      </div>
      {lines.length > 0 && (
        <pre className="max-h-96 overflow-auto rounded-lg border border-border bg-background py-2 font-mono text-[12px] leading-5" data-testid="template-diff" aria-label={t("templates.versions.diff")}>
          {lines.map((line, i) => (
            <div key={i} className={cn("px-3", LINE_STYLE[line.kind])} data-kind={line.kind}>
              {line.text || " "}
            </div>
          ))}
        </pre>
      )}
    </div>
  );
}

export function Versions({ template, canRollback, onChanged }: { template: Template; canRollback: boolean; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const client = useClient();
  const showError = useUi((s) => s.showError);
  const current = template.version;
  const [to, setTo] = useState(current);
  const [from, setFrom] = useState(Math.max(1, current - 1));
  const versions = template.versions;
  if (versions.length === 0) return <EmptyState icon={<History />} title={t("templates.versions.none")} />;

  const rollback = async (version: number) => {
    const r = await client.mutation(TPL_ROLLBACK, { id: template.id, version }).toPromise();
    if (r.error) {
      const e = explain(r.error, t);
      return showError(e.detail ?? e.message, e.code);
    }
    onChanged();
  };
  const versionSelect = (value: number, set: (v: number) => void, label: string) => (
    <Select value={String(value)} onValueChange={(v) => set(Number(v))}>
      <SelectTrigger className="h-8 w-28" aria-label={label}>
        <SelectValue />
      </SelectTrigger>
      <SelectContent>
        {versions.map((v) => <SelectItem key={v.version} value={String(v.version)}>v{v.version}</SelectItem>)}
      </SelectContent>
    </Select>
  );

  return (
    <div className="grid grid-cols-[20rem_minmax(0,1fr)] items-start gap-6">
      <Card>
        <CardHeader title={t("templates.versions.title")} description={t("templates.versions.hint")} />
        <ol className="divide-y divide-border">
          {versions.map((v) => (
            <li key={v.version} className={cn("flex items-start gap-3 px-4 py-3", v.version === to && "bg-primary/5")}>
              <button
                type="button"
                onClick={() => {
                  setTo(v.version);
                  setFrom(Math.max(1, v.version - 1));
                }}
                className="min-w-0 flex-1 text-left focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
                aria-pressed={v.version === to}
                title={t("templates.versions.show", { version: v.version })}
              >
                <span className="flex items-center gap-2 text-sm font-medium">
                  v{v.version}
                  {v.version === current && <Badge variant="success">{t("templates.versions.current")}</Badge>}
                </span>
                <span className="block truncate text-xs text-muted-foreground">{v.note || t("templates.versions.noNote")}</span>
                <span className="block text-[11px] text-muted-foreground">{formatDate(v.createdAt, i18n.language)}</span>
              </button>
              {canRollback && v.version !== current && (
                <AlertDialog>
                  <AlertDialogTrigger asChild>
                    <Button size="sm" variant="outline" aria-label={t("templates.versions.rollbackTo", { version: v.version })}>
                      <RotateCcw aria-hidden /> {t("templates.versions.rollback")}
                    </Button>
                  </AlertDialogTrigger>
                  <AlertDialogContent
                    destructive={false}
                    title={t("templates.versions.rollbackTitle", { version: v.version })}
                    description={t("templates.versions.rollbackText", { version: v.version, next: current + 1 })}
                    cancelLabel={t("templates.cancel")}
                    confirmLabel={t("templates.versions.rollback")}
                    onConfirm={() => void rollback(v.version)}
                  />
                </AlertDialog>
              )}
            </li>
          ))}
        </ol>
      </Card>
      <Card>
        <CardHeader
          title={<span className="flex items-center gap-1.5"><GitCompare className="size-4" aria-hidden /> {t("templates.versions.compare")}</span>}
          actions={
            <div className="flex items-center gap-2 text-xs text-muted-foreground">
              {versionSelect(from, setFrom, t("templates.versions.from"))}
              <span aria-hidden>→</span>
              {versionSelect(to, setTo, t("templates.versions.to"))}
            </div>
          }
        />
        <div className="p-4">
          {from === to ? <p className="text-sm text-muted-foreground">{t("templates.versions.same")}</p> : <DiffView id={template.id} from={from} to={to} />}
        </div>
      </Card>
    </div>
  );
}
