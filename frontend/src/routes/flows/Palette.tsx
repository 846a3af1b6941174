// The node types, to drag onto the canvas (or press: the node lands in the middle of the view).
import { useTranslation } from "react-i18next";
import { cn } from "@/lib/utils";
import { DRAG_TYPE } from "./Canvas";
import { KINDS } from "./kinds";
import { ACCENTS, iconOf } from "./meta";

const GROUPS: { key: string; kinds: string[] }[] = [
  { key: "start", kinds: ["trigger"] },
  { key: "talk", kinds: ["send_message", "ask", "buttons"] },
  { key: "logic", kinds: ["condition", "set", "http_request", "wait"] },
  { key: "handoff", kinds: ["transfer", "escalate", "close", "end"] },
];

export function Palette({ onAdd, hasTrigger }: { onAdd: (kind: string) => void; hasTrigger: boolean }) {
  const { t } = useTranslation();
  return (
    <nav aria-label={t("flows.palette.title")} className="flex h-full w-52 shrink-0 flex-col overflow-y-auto border-r border-border bg-background">
      <div className="px-4 pb-2 pt-4">
        <h2 className="text-xs font-semibold uppercase tracking-wide text-muted-foreground">{t("flows.palette.title")}</h2>
        <p className="mt-1 text-xs text-muted-foreground">{t("flows.palette.hint")}</p>
      </div>
      {GROUPS.map((group) => (
        <div key={group.key} className="px-2 pb-1">
          <h3 className="px-2 pb-0.5 pt-1.5 text-[11px] font-medium text-muted-foreground">{t(`flows.palette.${group.key}`)}</h3>
          <ul className="space-y-0.5">
            {group.kinds.filter((k) => (KINDS as readonly string[]).includes(k)).map((kind) => {
              const Icon = iconOf(kind);
              const disabled = kind === "trigger" && hasTrigger;
              return (
                <li key={kind}>
                  <button
                    type="button"
                    draggable={!disabled}
                    disabled={disabled}
                    data-palette={kind}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(DRAG_TYPE, kind);
                      e.dataTransfer.effectAllowed = "move";
                    }}
                    onClick={() => onAdd(kind)}
                    title={disabled ? t("flows.palette.oneTrigger") : undefined}
                    aria-label={t("flows.palette.add", { kind: t(`flows.kind.${kind}`) })}
                    className={cn(
                      "flex w-full cursor-grab items-center gap-2 rounded-md px-2 py-1 text-left text-sm transition hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring active:cursor-grabbing",
                      disabled && "cursor-not-allowed opacity-50",
                    )}
                  >
                    <span className={cn("flex size-6 items-center justify-center rounded", ACCENTS[kind])}>
                      <Icon className="size-3.5" aria-hidden />
                    </span>
                    {t(`flows.kind.${kind}`)}
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </nav>
  );
}
