// A node on the canvas: its type, id and a summary of its config, a handle in (all but the
// trigger) and one handle out per port, labelled; red when the builder or the server found a problem.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { AlertTriangle } from "lucide-react";
import { memo } from "react";
import { useTranslation } from "react-i18next";
import { cn } from "@/lib/utils";
import type { BuilderNode } from "./graph";
import { portsOf, summary } from "./kinds";
import { ACCENTS, iconOf, MODULE_ACCENT } from "./meta";

export interface CardExtras {
  problems?: string[];
  active?: boolean;
}

function FlowNodeCardInner({ id, data, selected }: NodeProps<BuilderNode>) {
  const { t } = useTranslation();
  const extras = data as BuilderNode["data"] & CardExtras;
  const Icon = iconOf(data.kind);
  const ports = portsOf(data.kind, data.config);
  const problems = extras.problems ?? [];
  const line = summary(data.kind, data.config);
  return (
    <div
      data-node={id}
      data-problems={problems.length || undefined}
      className={cn(
        "w-60 rounded-xl border bg-background text-left shadow-sm transition-shadow",
        selected ? "border-primary ring-2 ring-primary/30" : "border-border",
        problems.length > 0 && "border-destructive ring-2 ring-destructive/25",
        extras.active && "ring-4 ring-emerald-400/60",
      )}
    >
      {data.kind !== "trigger" && <Handle type="target" position={Position.Top} className="!size-3 !border-2 !border-background !bg-muted-foreground" />}
      <div className="flex items-center gap-2 px-3 pt-2.5">
        <span className={cn("flex size-7 shrink-0 items-center justify-center rounded-md", ACCENTS[data.kind] ?? MODULE_ACCENT)}>
          <Icon className="size-4" aria-hidden />
        </span>
        <div className="min-w-0">
          <p className="truncate text-sm font-semibold leading-tight">{t(`flows.kind.${data.kind}`, { defaultValue: data.kind })}</p>
          <p className="truncate font-mono text-[11px] text-muted-foreground">{id}</p>
        </div>
      </div>
      <p className={cn("mx-3 mt-2 line-clamp-2 min-h-8 text-xs", line ? "text-foreground/80" : ports.length === 0 ? "text-muted-foreground" : "italic text-muted-foreground")}>
        {line || (ports.length === 0 ? t("flows.node.terminal") : t("flows.node.notConfigured"))}
      </p>
      {problems.length > 0 && (
        <ul className="mx-2 mt-2 space-y-0.5 rounded-md bg-danger-soft px-2 py-1.5 text-[11px] text-danger-strong" data-node-problems>
          {problems.slice(0, 3).map((p) => (
            <li key={p} className="flex gap-1">
              <AlertTriangle className="mt-px size-3 shrink-0" aria-hidden />
              <span>{p}</span>
            </li>
          ))}
        </ul>
      )}
      <div className={cn("relative mt-2 flex h-6 items-end justify-around border-t border-border/70 px-1", ports.length === 0 && "h-2 border-t-0")}>
        {ports.map((port, index) => {
          const left = `${((index + 1) / (ports.length + 1)) * 100}%`;
          return (
            <span key={port} className="absolute top-0.5 -translate-x-1/2 font-mono text-[10px] text-muted-foreground" style={{ left }}>
              {port}
              <Handle
                type="source"
                id={port}
                position={Position.Bottom}
                style={{ left: "50%" }}
                className="!-bottom-[9px] !size-3 !border-2 !border-background !bg-primary"
              />
            </span>
          );
        })}
      </div>
    </div>
  );
}

export const FlowNodeCard = memo(FlowNodeCardInner);
