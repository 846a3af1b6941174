// The node types, to drag onto the canvas (or press: the node lands in the middle of the view):
// the built-in ones, then those the enabled modules add (moduleKinds.ts), under their module.
import { useTranslation } from "react-i18next";
import { cn } from "@/lib/utils";
import { moduleText } from "@/routes/integrations/modules/moduleWords";
import { DRAG_TYPE } from "./Canvas";
import { KINDS } from "./kinds";
import { moduleKinds } from "./moduleKinds";
import { ACCENTS, iconOf, MODULE_ACCENT } from "./meta";

const GROUPS: { key: string; title?: string; kinds: string[] }[] = [
  { key: "start", kinds: ["trigger"] },
  { key: "talk", kinds: ["send_message", "ask", "buttons"] },
  { key: "logic", kinds: ["condition", "set", "http_request", "wait"] },
  { key: "handoff", kinds: ["transfer", "escalate", "close", "end"] },
];

export function Palette({ onAdd, hasTrigger }: { onAdd: (kind: string) => void; hasTrigger: boolean }) {
  const { t } = useTranslation();
  const byModule = new Map<string, { title: string; kinds: string[] }>();
  for (const kind of moduleKinds()) {
    const group = byModule.get(kind.module) ?? { title: moduleText(kind.module, "title", kind.moduleTitle), kinds: [] };
    group.kinds.push(kind.name);
    byModule.set(kind.module, group);
  }
  const groups = [
    ...GROUPS,
    ...[...byModule].map(([module, g]) => ({ key: `module:${module}`, title: t("flows.palette.module", { title: g.title }), kinds: g.kinds })),
  ];
  const known = new Set<string>([...KINDS, ...moduleKinds().map((k) => k.name)]);
  const described = new Map(moduleKinds().map((k) => [k.name, moduleText(k.module, `nodes.${k.name}.description`, k.description)]));
  return (
    <nav aria-label={t("flows.palette.title")} className="flex h-full w-52 shrink-0 flex-col overflow-y-auto border-r border-border bg-background">
      <div className="px-4 pb-2 pt-4">
        <h2 className="text-xs font-semibold uppercase tracking-wide text-muted-foreground">{t("flows.palette.title")}</h2>
        <p className="mt-1 text-xs text-muted-foreground">{t("flows.palette.hint")}</p>
      </div>
      {groups.map((group) => (
        <div key={group.key} className="px-2 pb-1" data-palette-group={group.key}>
          <h3 className="px-2 pb-0.5 pt-1.5 text-[11px] font-medium text-muted-foreground">{group.title ?? t(`flows.palette.${group.key}`)}</h3>
          <ul className="space-y-0.5">
            {group.kinds.filter((k) => known.has(k)).map((kind) => {
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
                    title={disabled ? t("flows.palette.oneTrigger") : described.get(kind)}
                    aria-label={t("flows.palette.add", { kind: t(`flows.kind.${kind}`, { defaultValue: kind }) })}
                    className={cn(
                      "flex w-full cursor-grab items-center gap-2 rounded-md px-2 py-1 text-left text-sm transition hover:bg-accent focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring active:cursor-grabbing",
                      disabled && "cursor-not-allowed opacity-50",
                    )}
                  >
                    <span className={cn("flex size-6 items-center justify-center rounded", ACCENTS[kind] ?? MODULE_ACCENT)}>
                      <Icon className="size-3.5" aria-hidden />
                    </span>
                    <span className={cn(!(KINDS as readonly string[]).includes(kind) && "font-mono text-xs")}>{t(`flows.kind.${kind}`, { defaultValue: kind })}</span>
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
