// Where each of the selected node's ports leads, as a list of selects: the same edges the canvas
// draws by dragging, reachable from the keyboard.
import { ArrowDownRight } from "lucide-react";
import { useTranslation } from "react-i18next";
import type { BuilderNode, Graph } from "./graph";
import { portsOf } from "./kinds";
import { selectClass } from "./NodeForm";

export function Connections({ node, graph, onWire }: { node: BuilderNode; graph: Graph; onWire: (port: string, target: string | null) => void }) {
  const { t } = useTranslation();
  const ports = portsOf(node.data.kind, node.data.config);
  if (!ports.length) return null;
  const targets = graph.nodes.filter((n) => n.id !== node.id && n.data.kind !== "trigger");
  const plain = (port: string) => graph.edges.find((e) => e.source === node.id && (e.sourceHandle || "next") === port && !e.data?.condition)?.target ?? "";
  return (
    <section className="mt-6 border-t border-border pt-4" aria-labelledby="node-connections">
      <h3 id="node-connections" className="text-sm font-semibold">{t("flows.form.connections")}</h3>
      <p className="mt-0.5 text-xs text-muted-foreground">{t("flows.form.connectionsHint")}</p>
      <ul className="mt-3 space-y-2">
        {ports.map((port) => (
          <li key={port} className="grid grid-cols-[6.5rem_1fr] items-center gap-2">
            <label htmlFor={`wire-${port}`} className="flex items-center gap-1 truncate font-mono text-xs text-muted-foreground">
              <ArrowDownRight className="size-3.5 shrink-0" aria-hidden /> {port}
            </label>
            <select id={`wire-${port}`} className={selectClass} value={plain(port)} onChange={(e) => onWire(port, e.target.value || null)}>
              <option value="">{t("flows.form.nowhere")}</option>
              {targets.map((n) => (
                <option key={n.id} value={n.id}>{`${n.id} · ${t(`flows.kind.${n.data.kind}`, { defaultValue: n.data.kind })}`}</option>
              ))}
            </select>
          </li>
        ))}
      </ul>
    </section>
  );
}
