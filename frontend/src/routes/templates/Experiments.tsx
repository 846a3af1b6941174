// A template's A/B experiments: start one (arms with bodies and weights), each arm's reply and
// resolution rates with their always-valid confidence intervals, the comparison with the control
// and the verdict; stop it, and (admins) promote the winner into a new version.
import { CheckCircle2, FlaskConical, Hourglass, Loader2, Play, Plus, Square, Trophy, Trash2 } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useClient, useQuery } from "urql";
import { explain } from "@/api/errors";
import type { TplDetailQuery, TplExperimentReportQuery, TplExperimentReportQueryVariables, TplExperimentsQuery, TplExperimentsQueryVariables } from "@/api/graphql.generated";
import { TPL_EXPERIMENT_REPORT, TPL_EXPERIMENTS, TPL_PROMOTE, TPL_START_EXPERIMENT, TPL_STOP_EXPERIMENT } from "@/api/ops/templates";
import { ErrorState } from "@/components/ErrorState";
import { pct, promptsIn } from "@/components/templates/logic";
import { VariableTextarea } from "@/components/templates/VariableTextarea";
import { AlertDialog, AlertDialogContent, AlertDialogTrigger } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardHeader, EmptyState } from "@/components/ui/card";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/misc";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { cn } from "@/lib/utils";
import { useServices } from "@/services";
import { useUi } from "@/state/ui";
import { formatDate } from "./common";

type Template = TplDetailQuery["template"];
type Report = TplExperimentReportQuery["templateExperiment"];
type Rate = Report["arms"][number]["replied"];

/** A rate with its interval drawn on a 0–100 % track. */
export function RateBar({ rate }: { rate: Rate }) {
  const { t } = useTranslation();
  if (rate.rate == null) return <span className="text-muted-foreground">—</span>;
  const low = rate.low ?? rate.rate;
  const high = rate.high ?? rate.rate;
  return (
    <div className="flex min-w-40 flex-col gap-1">
      <span className="flex items-baseline justify-between gap-2">
        <span className="font-medium tabular-nums">{pct(rate.rate)}</span>
        <span className="text-[11px] tabular-nums text-muted-foreground" title={t("templates.exp.interval")}>
          {pct(low, 0)}–{pct(high, 0)}
        </span>
      </span>
      <span className="relative h-1.5 rounded-full bg-muted" aria-hidden>
        <span className="absolute inset-y-0 rounded-full bg-primary/30" style={{ left: `${low * 100}%`, width: `${Math.max(1, (high - low) * 100)}%` }} />
        <span className="absolute -top-0.5 h-2.5 w-0.5 rounded bg-primary" style={{ left: `${rate.rate * 100}%` }} />
      </span>
      <span className="text-[11px] tabular-nums text-muted-foreground">{t("templates.exp.ofConversations", { successes: rate.successes, count: rate.conversations })}</span>
    </div>
  );
}

function Comparison({ c }: { c: Report["arms"][number]["repliedVsControl"] }) {
  const { t } = useTranslation();
  if (!c) return <span className="text-xs text-muted-foreground">{t("templates.exp.control")}</span>;
  if (c.difference == null) return <span className="text-muted-foreground">—</span>;
  const sign = c.difference > 0 ? "+" : "";
  return (
    <div className="flex flex-col items-end gap-0.5">
      <span className={cn("font-medium tabular-nums", c.significant && (c.difference > 0 ? "text-success-strong" : "text-danger-strong"))}>
        {sign}{(c.difference * 100).toFixed(1)} pp
      </span>
      <span className="text-[11px] tabular-nums text-muted-foreground">
        [{c.low == null ? "—" : (c.low * 100).toFixed(1)}, {c.high == null ? "—" : (c.high * 100).toFixed(1)}] · p={c.pValue == null ? "—" : c.pValue < 0.001 ? "<0.001" : c.pValue.toFixed(3)}
      </span>
      {c.significant ? <Badge variant={c.difference > 0 ? "success" : "danger"}>{t("templates.exp.significant")}</Badge> : <Badge variant="outline">{t("templates.exp.notYet")}</Badge>}
    </div>
  );
}

export function Verdict({ report, onPromote, admin }: { report: Report; onPromote: (arm: string) => void; admin: boolean }) {
  const { t } = useTranslation();
  if (report.promotedArm)
    return (
      <div className="flex items-center gap-3 rounded-lg border border-success/30 bg-success-soft px-4 py-3 text-sm text-success-strong" role="status">
        <CheckCircle2 className="size-5 shrink-0" aria-hidden />
        {t("templates.exp.promoted", { arm: report.promotedArm, version: report.promotedVersion })}
      </div>
    );
  if (report.winner)
    return (
      <div className="flex items-center gap-3 rounded-lg border border-success/30 bg-success-soft px-4 py-3 text-sm text-success-strong" role="status" data-verdict="winner">
        <Trophy className="size-5 shrink-0" aria-hidden />
        <span className="flex-1">{t(report.winner === report.arms[0]?.name ? "templates.exp.controlWins" : "templates.exp.winner", { arm: report.winner })}</span>
        {admin ? (
          <Button size="sm" variant="success" onClick={() => onPromote(report.winner!)}>
            <Trophy aria-hidden /> {t("templates.exp.promoteWinner")}
          </Button>
        ) : (
          <span className="text-xs">{t("templates.exp.adminPromotes")}</span>
        )}
      </div>
    );
  return (
    <div className="flex items-center gap-3 rounded-lg border border-border bg-muted/40 px-4 py-3 text-sm text-muted-foreground" role="status" data-verdict="collecting">
      <Hourglass className="size-5 shrink-0" aria-hidden />
      {t(report.running ? "templates.exp.collecting" : "templates.exp.inconclusive")}
    </div>
  );
}

function ReportView({ id, onChanged }: { id: string; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const client = useClient();
  const { me } = useServices();
  const showError = useUi((s) => s.showError);
  const [{ data, error, fetching }, refetch] = useQuery<TplExperimentReportQuery, TplExperimentReportQueryVariables>({ query: TPL_EXPERIMENT_REPORT, variables: { id }, requestPolicy: "network-only" });
  if (error) return <ErrorState error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} />;
  if (fetching && !data) return <Skeleton className="h-56 w-full" />;
  const report = data?.templateExperiment;
  if (!report) return null;
  const act = async (query: string, variables: Record<string, unknown>) => {
    const r = await client.mutation(query, variables).toPromise();
    if (r.error) {
      const e = explain(r.error, t);
      return showError(e.detail ?? e.message, e.code);
    }
    refetch({ requestPolicy: "network-only" });
    onChanged();
  };
  const admin = me.role === "ADMIN";
  return (
    <Card>
      <CardHeader
        title={
          <span className="flex items-center gap-2">
            {t("templates.exp.report", { version: report.version })}
            {report.running ? <Badge variant="info">{t("templates.exp.running")}</Badge> : <Badge variant="secondary">{t("templates.exp.stopped")}</Badge>}
          </span>
        }
        description={t("templates.exp.method", { method: report.method, alpha: report.alpha, started: formatDate(report.startedAt, i18n.language) })}
        actions={
          report.running && (
            <AlertDialog>
              <AlertDialogTrigger asChild>
                <Button size="sm" variant="outline"><Square aria-hidden /> {t("templates.exp.stop")}</Button>
              </AlertDialogTrigger>
              <AlertDialogContent
                title={t("templates.exp.stopTitle")}
                description={t("templates.exp.stopText")}
                cancelLabel={t("templates.cancel")}
                confirmLabel={t("templates.exp.stop")}
                onConfirm={() => void act(TPL_STOP_EXPERIMENT, { id })}
              />
            </AlertDialog>
          )
        }
      />
      <div className="space-y-4 p-4">
        <Verdict report={report} admin={admin} onPromote={(arm) => void act(TPL_PROMOTE, { id, arm })} />
        <Table aria-label={t("templates.exp.arms")}>
          <THead>
            <tr>
              <Th>{t("templates.exp.arm")}</Th>
              <Th numeric>{t("templates.exp.weight")}</Th>
              <Th numeric>{t("templates.exp.conversations")}</Th>
              <Th>{t("templates.exp.replyRate")}</Th>
              <Th numeric>{t("templates.exp.vsControl")}</Th>
              <Th>{t("templates.exp.resolvedRate")}</Th>
              {admin && !report.promotedArm && <Th><span className="sr-only">{t("templates.exp.promote")}</span></Th>}
            </tr>
          </THead>
          <TBody>
            {report.arms.map((arm, index) => (
              <Tr key={arm.name} data-arm={arm.name}>
                <Td className="max-w-0 w-[28%]">
                  <span className="flex items-center gap-2 font-medium">
                    {arm.name}
                    {index === 0 && <Badge variant="outline">{t("templates.exp.control")}</Badge>}
                    {report.winner === arm.name && <Trophy className="size-4 text-amber-500" aria-label={t("templates.exp.winnerMark")} role="img" />}
                  </span>
                  <p className="mt-0.5 line-clamp-2 text-xs text-muted-foreground" title={arm.body}>{arm.body}</p>
                </Td>
                <Td numeric>{arm.weight}</Td>
                <Td numeric>{arm.conversations.toLocaleString(i18n.language)}</Td>
                <Td><RateBar rate={arm.replied} /></Td>
                <Td numeric><Comparison c={arm.repliedVsControl} /></Td>
                <Td><RateBar rate={arm.resolved} /></Td>
                {admin && !report.promotedArm && (
                  <Td>
                    <AlertDialog>
                      <AlertDialogTrigger asChild>
                        <Button size="sm" variant="ghost" aria-label={t("templates.exp.promoteArm", { arm: arm.name })}>{t("templates.exp.promote")}</Button>
                      </AlertDialogTrigger>
                      <AlertDialogContent
                        destructive={false}
                        title={t("templates.exp.promoteTitle", { arm: arm.name })}
                        description={t("templates.exp.promoteText")}
                        cancelLabel={t("templates.cancel")}
                        confirmLabel={t("templates.exp.promote")}
                        onConfirm={() => void act(TPL_PROMOTE, { id, arm: arm.name })}
                      />
                    </AlertDialog>
                  </Td>
                )}
              </Tr>
            ))}
          </TBody>
        </Table>
      </div>
    </Card>
  );
}

interface ArmDraft { body: string; weight: string }

function StartDialog({ template, open, onOpenChange, onStarted }: { template: Template; open: boolean; onOpenChange: (open: boolean) => void; onStarted: (id: string) => void }) {
  const { t } = useTranslation();
  const client = useClient();
  const [arms, setArms] = useState<ArmDraft[]>([{ body: "", weight: "1" }, { body: template.body, weight: "1" }]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const prompts = promptsIn([template.body]);
  const letter = (i: number) => String.fromCharCode(65 + i);
  const weightOk = (w: string) => /^\d+$/.test(w) && Number(w) >= 1 && Number(w) <= 1000;
  const valid = arms.every((a, i) => weightOk(a.weight) && (i === 0 || a.body.trim().length > 0));
  const start = async () => {
    setBusy(true);
    setProblem(null);
    const r = await client
      .mutation(TPL_START_EXPERIMENT, { input: { templateId: template.id, arms: arms.map((a, i) => ({ name: letter(i), body: i === 0 ? null : a.body, weight: Number(a.weight) })) } })
      .toPromise();
    setBusy(false);
    if (r.error || !r.data) {
      const e = explain(r.error, t);
      return setProblem(e.detail ?? e.message);
    }
    onStarted((r.data as { startTemplateExperiment: { id: string } }).startTemplateExperiment.id);
  };
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent title={t("templates.exp.startTitle")} description={t("templates.exp.startText")} closeLabel={t("templates.close")}>
        <div className="max-h-[60vh] space-y-3 overflow-y-auto pr-1">
          {arms.map((arm, i) => (
            <div key={i} className="rounded-lg border border-border p-3">
              <div className="mb-2 flex items-center justify-between">
                <span className="text-sm font-medium">{t("templates.exp.armName", { arm: letter(i) })} {i === 0 && <Badge variant="outline">{t("templates.exp.control")}</Badge>}</span>
                <div className="flex items-center gap-2">
                  <Input
                    value={arm.weight}
                    onChange={(e) => setArms(arms.map((a, j) => (j === i ? { ...a, weight: e.target.value } : a)))}
                    inputMode="numeric"
                    className="h-8 w-16 text-right"
                    aria-label={t("templates.exp.weightOf", { arm: letter(i) })}
                    aria-invalid={!weightOk(arm.weight) || undefined}
                  />
                  {i >= 2 && (
                    <Button type="button" size="icon" variant="ghost" onClick={() => setArms(arms.filter((_, j) => j !== i))} aria-label={t("templates.exp.removeArm", { arm: letter(i) })}>
                      <Trash2 aria-hidden />
                    </Button>
                  )}
                </div>
              </div>
              {i === 0 ? (
                <p className="rounded-md bg-muted/50 p-2 text-xs text-muted-foreground">{template.body}</p>
              ) : (
                <Field label={t("templates.exp.armBody", { arm: letter(i) })}>
                  <VariableTextarea value={arm.body} onChange={(body) => setArms(arms.map((a, j) => (j === i ? { ...a, body } : a)))} prompts={prompts} rows={3} />
                </Field>
              )}
            </div>
          ))}
        </div>
        {problem && <p role="alert" className="mt-3 text-sm text-destructive">{problem}</p>}
        <div className="mt-4 flex items-center justify-between">
          <Button type="button" variant="ghost" size="sm" disabled={arms.length >= 10} onClick={() => setArms([...arms, { body: template.body, weight: "1" }])}>
            <Plus aria-hidden /> {t("templates.exp.addArm")}
          </Button>
          <Button type="button" disabled={!valid || busy} onClick={() => void start()}>
            {busy ? <Loader2 className="animate-spin" aria-hidden /> : <Play aria-hidden />} {t("templates.exp.start")}
          </Button>
        </div>
      </DialogContent>
    </Dialog>
  );
}

export function Experiments({ template, onChanged }: { template: Template; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const [{ data, error, fetching }, refetch] = useQuery<TplExperimentsQuery, TplExperimentsQueryVariables>({ query: TPL_EXPERIMENTS, variables: { templateId: template.id }, requestPolicy: "cache-and-network" });
  const [selected, setSelected] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const list = data?.templateExperiments ?? [];
  const running = list.some((x) => x.running);
  const shown = selected ?? list[0]?.id ?? null;
  const startButton = (
    <Button onClick={() => setStarting(true)} disabled={running} title={running ? t("templates.exp.oneAtATime") : undefined}>
      <FlaskConical aria-hidden /> {t("templates.exp.new")}
    </Button>
  );

  let body;
  if (error) body = <ErrorState error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} />;
  else if (fetching && !data) body = <Skeleton className="h-40 w-full" />;
  else if (list.length === 0) body = <EmptyState icon={<FlaskConical />} title={t("templates.exp.none")} description={t("templates.exp.noneHint")} action={startButton} />;
  else
    body = (
      <div className="grid grid-cols-[14rem_minmax(0,1fr)] items-start gap-6">
        <div className="space-y-3">
          {startButton}
          <ul className="space-y-1" aria-label={t("templates.exp.list")}>
            {list.map((x) => (
              <li key={x.id}>
                <button
                  type="button"
                  aria-pressed={shown === x.id}
                  onClick={() => setSelected(x.id)}
                  className={cn("w-full rounded-md px-3 py-2 text-left text-sm transition hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring", shown === x.id && "bg-background shadow-sm ring-1 ring-border")}
                >
                  <span className="flex items-center justify-between gap-2 font-medium">
                    {t("templates.exp.onVersion", { version: x.version })}
                    {x.running ? <Badge variant="info">{t("templates.exp.running")}</Badge> : x.promotedArm ? <Badge variant="success">{x.promotedArm}</Badge> : <Badge variant="secondary">{t("templates.exp.stopped")}</Badge>}
                  </span>
                  <span className="block text-xs text-muted-foreground">{formatDate(x.startedAt, i18n.language)}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
        {shown && <ReportView key={shown} id={shown} onChanged={() => { refetch({ requestPolicy: "network-only" }); onChanged(); }} />}
      </div>
    );

  return (
    <>
      {body}
      {starting && (
        <StartDialog
          template={template}
          open={starting}
          onOpenChange={setStarting}
          onStarted={(id) => {
            setStarting(false);
            setSelected(id);
            refetch({ requestPolicy: "network-only" });
          }}
        />
      )}
    </>
  );
}
