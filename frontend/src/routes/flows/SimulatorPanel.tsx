// The simulator: the customer's lines, typed one by one, run through the draft on the canvas
// (simulateFlow: nothing stored, nothing sent); the transcript, then each step with the node it
// stopped at (highlighted on the canvas) and the variables after it.
import { ChevronLeft, ChevronRight, FlaskConical, Play, Send, Trash2, X } from "lucide-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import { SIMULATE_FLOW } from "@/api/ops/flows";
import type { SimulateFlowMutation } from "@/api/graphql.generated";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { cn } from "@/lib/utils";
import { toDefinition, type Graph } from "./graph";
import { selectClass } from "./NodeForm";
import { generalText, serverProblems } from "./problems";

type Simulation = SimulateFlowMutation["simulateFlow"];
const PLATFORMS = ["WHATSAPP", "MESSENGER", "INSTAGRAM", "TELEGRAM", "WEBCHAT", "SMS", "EMAIL"] as const;

export function SimulatorPanel({ graph, onActiveNode }: { graph: Graph; onActiveNode: (id: string | null) => void }) {
  const { t } = useTranslation();
  const [script, setScript] = useState<string[]>([]);
  const [line, setLine] = useState("");
  const [platform, setPlatform] = useState<(typeof PLATFORMS)[number]>("WHATSAPP");
  const [customer, setCustomer] = useState(t("flows.sim.customerDefault"));
  const [result, setResult] = useState<Simulation | null>(null);
  const [step, setStep] = useState(0);
  const [{ fetching, error }, simulate] = useMutation<SimulateFlowMutation>(SIMULATE_FLOW);

  const current = result?.steps[step] ?? null;
  useEffect(() => {
    onActiveNode(current?.node ?? null);
  }, [current, onActiveNode]);
  useEffect(() => () => onActiveNode(null), [onActiveNode]);

  const add = () => {
    if (!line.trim()) return;
    setScript((s) => [...s, line.trim()]);
    setLine("");
  };
  const run = async () => {
    const response = await simulate({ definition: toDefinition(graph), script, platform, customer: customer.trim() ? { name: customer.trim() } : null });
    setResult(response.data?.simulateFlow ?? null);
    setStep(0);
  };

  return (
    <div className="space-y-4 pt-1" data-simulator>
      <section aria-labelledby="sim-script">
        <h3 id="sim-script" className="text-sm font-semibold">{t("flows.sim.script")}</h3>
        <p className="mt-0.5 text-xs text-muted-foreground">{t("flows.sim.scriptHint")}</p>
        <ol className="mt-2 space-y-1">
          {script.map((text, index) => (
            <li key={`${index}:${text}`} className="flex items-center gap-2 rounded-md bg-muted/60 px-2 py-1 text-sm">
              <span className="w-4 text-right font-mono text-[11px] text-muted-foreground">{index + 1}</span>
              <span className="min-w-0 flex-1 truncate">{text}</span>
              <button type="button" className="rounded p-0.5 text-muted-foreground hover:text-foreground" onClick={() => setScript((s) => s.filter((_, i) => i !== index))} aria-label={t("flows.sim.removeLine", { n: index + 1 })}>
                <X className="size-3.5" aria-hidden />
              </button>
            </li>
          ))}
        </ol>
        <form className="mt-2 flex gap-2" onSubmit={(e) => { e.preventDefault(); add(); }}>
          <Input value={line} onChange={(e) => setLine(e.target.value)} placeholder={t("flows.sim.placeholder")} aria-label={t("flows.sim.customerLine")} />
          <Button type="submit" variant="outline" size="icon" className="size-9" aria-label={t("flows.sim.addLine")} disabled={!line.trim()}>
            <Send aria-hidden />
          </Button>
        </form>
        <div className="mt-3 grid grid-cols-2 gap-2">
          <div>
            <label className="text-xs font-medium text-muted-foreground" htmlFor="sim-customer">{t("flows.sim.customerName")}</label>
            <Input id="sim-customer" className="mt-1 h-8 text-xs" value={customer} onChange={(e) => setCustomer(e.target.value)} />
          </div>
          <div>
            <label className="text-xs font-medium text-muted-foreground" htmlFor="sim-platform">{t("flows.sim.platform")}</label>
            <select id="sim-platform" className={cn(selectClass, "mt-1 h-8 text-xs")} value={platform} onChange={(e) => setPlatform(e.target.value as (typeof PLATFORMS)[number])}>
              {PLATFORMS.map((p) => <option key={p} value={p}>{p.charAt(0) + p.slice(1).toLowerCase()}</option>)}
            </select>
          </div>
        </div>
        <div className="mt-3 flex items-center gap-2">
          {script.length > 0 && (
            <Button variant="ghost" size="sm" onClick={() => { setScript([]); setResult(null); }}>
              <Trash2 aria-hidden /> {t("flows.sim.clear")}
            </Button>
          )}
          <Button size="sm" className="ml-auto" onClick={() => void run()} disabled={fetching || graph.nodes.length === 0}>
            <Play aria-hidden /> {fetching ? t("flows.sim.running") : t("flows.sim.run")}
          </Button>
        </div>
      </section>
      {error && <SimulationRefused error={error} />}
      {!result && !error && (
        <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed border-border px-4 py-8 text-center text-sm text-muted-foreground">
          <FlaskConical className="size-5" aria-hidden />
          {t("flows.sim.empty")}
        </div>
      )}
      {result && (
        <>
          <section aria-labelledby="sim-transcript">
            <div className="flex items-center gap-2">
              <h3 id="sim-transcript" className="text-sm font-semibold">{t("flows.sim.transcript")}</h3>
              <Badge variant={result.status === "failed" ? "danger" : result.status === "ended" ? "success" : "warning"} data-sim-status={result.status}>
                {t(`flows.sim.status.${result.status}`, { defaultValue: result.status })}
              </Badge>
            </div>
            <ol className="mt-2 space-y-1.5 rounded-lg bg-muted/40 p-2" data-transcript>
              {result.transcript.map((entry, index) => (
                <li key={index} className={cn("flex", entry.from === "customer" ? "justify-end" : entry.from === "system" ? "justify-center" : "justify-start")}>
                  <span
                    data-from={entry.from}
                    className={cn(
                      "max-w-[85%] whitespace-pre-wrap rounded-lg px-2.5 py-1.5 text-sm",
                      entry.from === "customer" ? "bg-primary text-primary-foreground" : entry.from === "bot" ? "border border-border bg-background" : "bg-transparent text-xs italic text-muted-foreground",
                    )}
                  >
                    {entry.text ?? describe(entry.details)}
                  </span>
                </li>
              ))}
            </ol>
            {result.unusedMessages > 0 && <p className="mt-1 text-xs text-muted-foreground">{t("flows.sim.unused", { count: result.unusedMessages })}</p>}
          </section>
          {result.steps.length > 0 && current && (
            <section aria-labelledby="sim-steps">
              <div className="flex items-center gap-1">
                <h3 id="sim-steps" className="text-sm font-semibold">{t("flows.sim.steps")}</h3>
                <span className="ml-auto text-xs text-muted-foreground" aria-live="polite">{t("flows.sim.stepOf", { n: step + 1, total: result.steps.length })}</span>
                <Button variant="ghost" size="icon" onClick={() => setStep((s) => Math.max(0, s - 1))} disabled={step === 0} aria-label={t("flows.sim.previous")}>
                  <ChevronLeft aria-hidden />
                </Button>
                <Button variant="ghost" size="icon" onClick={() => setStep((s) => Math.min(result.steps.length - 1, s + 1))} disabled={step >= result.steps.length - 1} aria-label={t("flows.sim.next")}>
                  <ChevronRight aria-hidden />
                </Button>
              </div>
              <div className="mt-1 space-y-2 rounded-lg border border-border p-3 text-xs" data-sim-step={step}>
                <p><span className="text-muted-foreground">{t("flows.sim.event")}: </span>{describe(current.event)}</p>
                <p><span className="text-muted-foreground">{t("flows.sim.stoppedAt")}: </span><span className="font-mono">{current.node ?? "—"}</span> · {current.status}</p>
                <p><span className="text-muted-foreground">{t("flows.sim.actions")}: </span>{actionNames(current.actions) || "—"}</p>
                <Variables values={current.variables} />
              </div>
            </section>
          )}
        </>
      )}
    </div>
  );
}

function Variables({ values }: { values: Record<string, unknown> }) {
  const { t } = useTranslation();
  const entries = Object.entries(values ?? {});
  if (!entries.length) return <p className="text-muted-foreground">{t("flows.sim.noVariables")}</p>;
  return (
    <table className="w-full text-left">
      <caption className="sr-only">{t("flows.sim.variables")}</caption>
      <thead>
        <tr className="text-muted-foreground"><th scope="col" className="font-medium">{t("flows.sim.variable")}</th><th scope="col" className="font-medium">{t("flows.sim.value")}</th></tr>
      </thead>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}><td className="py-0.5 pr-2 font-mono">{k}</td><td className="break-all">{typeof v === "string" ? v : JSON.stringify(v)}</td></tr>
        ))}
      </tbody>
    </table>
  );
}

export function describe(value: unknown): string {
  if (value == null) return "";
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if (typeof v.text === "string") return v.text;
  if (typeof v.type === "string") return v.type;
  return JSON.stringify(value);
}

export function actionNames(actions: unknown): string {
  const list = Array.isArray(actions) ? actions : [];
  return list.map((a) => (a && typeof a === "object" && "type" in a ? String((a as { type: unknown }).type) : JSON.stringify(a))).join(", ");
}

/** A draft the server refuses to simulate: its problems in the reader's language, by code. */
function SimulationRefused({ error }: { error: unknown }) {
  const { t } = useTranslation();
  const refused = serverProblems(error, []);
  if (!refused) return <ErrorState error={error} compact />;
  return (
    <ul role="alert" className="space-y-1 rounded-md bg-danger-soft px-3 py-2 text-xs text-danger-strong" data-sim-problems>
      {refused.general.map((p, i) => <li key={i}>{generalText(p, t)}</li>)}
    </ul>
  );
}
