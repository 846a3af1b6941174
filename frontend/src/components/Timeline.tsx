import { AlertTriangle, ArrowRightLeft, Bot, Check, CheckCheck, Clock, Flame, Info, Lock, Smile, TimerReset, type LucideIcon } from "lucide-react";
import { Fragment } from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import type { Activity, Message } from "@/api/types";
import { clockTime, dayLabel } from "@/lib/time";
import { cn } from "@/lib/utils";
import { Media, textIsPreview } from "./conversation/Media";
import { platformLabel } from "./PlatformIcon";

export type TimelineItem = { kind: "message"; at: string; message: Message } | { kind: "activity"; at: string; activity: Activity };

/** Messages and activities in one timeline, oldest first. */
export function timeline(messages: Message[], activities: Activity[]): TimelineItem[] {
  return [
    ...messages.map((m) => ({ kind: "message" as const, at: m.createdAt, message: m })),
    ...activities.map((a) => ({ kind: "activity" as const, at: a.createdAt, activity: a })),
  ].sort((a, b) => a.at.localeCompare(b.at));
}

/** The delivery tick of an outgoing message: ⏱ sending, ✓ sent, ✓✓ delivered, blue ✓✓ read, ⚠ failed. */
export function Tick({ status }: { status: Message["status"] }) {
  const { t } = useTranslation();
  const label = t(`ticks.${status}`);
  const common = { "aria-label": label, role: "img", "data-tick": status } as const;
  switch (status) {
    case "QUEUED":
      return <Clock {...common} className="size-3.5 text-muted-foreground" />;
    case "SENT":
      return <Check {...common} className="size-3.5 text-muted-foreground" />;
    case "DELIVERED":
      return <CheckCheck {...common} className="size-3.5 text-muted-foreground" />;
    case "READ":
      return <CheckCheck {...common} className="size-3.5 text-sky-600" />;
    case "FAILED":
      return <AlertTriangle {...common} className="size-3.5 text-red-600" />;
    default:
      return null;
  }
}

export function describeActivity(a: Activity, t: TFunction): string {
  const who = a.actor?.name ?? t("activity.system");
  const d = (a.data ?? {}) as Record<string, string | number | null | string[]>;
  const status = (s: unknown) => t(`status.${String(s).toUpperCase()}`, { defaultValue: String(s) });
  switch (a.type) {
    case "status_changed":
      if (d.to === "snoozed" && d.until) return t("inbox-plus.activity.snoozed", { who, until: new Date(String(d.until)).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) });
      return d.reason === "customer_wrote" ? t("activity.reopened") : d.reason === "snooze_ended" ? t("activity.snoozeEnded") : t("activity.status", { who, from: status(d.from), to: status(d.to) });
    case "assigned":
      return d.strategy === "manual" ? t("activity.took", { who }) : t("activity.autoAssigned", { strategy: d.strategy });
    case "unassigned":
      return t("activity.unassigned", { who });
    case "transferred":
      return t("activity.transferred", { who, to: d.to_name, reason: d.reason });
    case "escalated":
      return t("activity.escalated", { who, level: d.level, reason: d.reason });
    case "labels_changed":
      return t("activity.labels", { who, changes: [...((d.added as string[]) ?? []).map((l) => `+${l}`), ...((d.removed as string[]) ?? []).map((l) => `-${l}`)].join(" ") });
    case "priority_changed":
      return t("activity.priority", { who, from: d.from, to: d.to });
    case "sla_warning":
      return t("activity.slaWarning", { kind: t(`sla.${d.kind}`, { defaultValue: String(d.kind) }) });
    case "sla_breached":
      return t("activity.slaBreached", { kind: t(`sla.${d.kind}`, { defaultValue: String(d.kind) }) });
    case "csat_sent":
      return t("activity.csatSent");
    case "csat_received":
      return d.comment ? t("activity.csatComment", { comment: d.comment }) : t("activity.csatScore", { score: d.score });
    case "csat_late_answer":
      return t("activity.csatLate", { score: d.score });
    case "flow_handed_off":
      return t("inbox-plus.activity.handedOff", { flow: d.flow, node: d.node, why: d.why ?? "" });
    case "routed":
      return t("inbox-plus.activity.routed");
    case "requeued":
      return t("inbox-plus.activity.requeued");
    default:
      return t("activity.other", { who, type: a.type.replace(/_/g, " ") });
  }
}

/** How an activity looks: its icon and tone (SLA and escalations stand out, CSAT is good news). */
export function activityStyle(type: string): { icon: LucideIcon; tone: string } {
  if (type === "sla_breached" || type === "escalated") return { icon: type === "escalated" ? Flame : AlertTriangle, tone: "bg-danger-soft text-danger-strong" };
  if (type === "sla_warning") return { icon: TimerReset, tone: "bg-warning-soft text-warning-strong" };
  if (type.startsWith("csat")) return { icon: Smile, tone: "bg-success-soft text-success-strong" };
  if (type === "flow_handed_off") return { icon: Bot, tone: "bg-info-soft text-info-strong" };
  if (type === "transferred" || type === "assigned" || type === "unassigned" || type === "routed" || type === "requeued") return { icon: ArrowRightLeft, tone: "bg-muted text-muted-foreground" };
  return { icon: Info, tone: "bg-muted text-muted-foreground" };
}

/** A note's text with its @mentions marked (the server tells "@Full Name" and "@mailbox"). */
export function NoteText({ text, people }: { text: string; people: string[] }) {
  const names = [...people].sort((a, b) => b.length - a.length).map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (names.length === 0) return <>{text}</>;
  const pattern = new RegExp(`(@(?:${names.join("|")}))(?![\\w.-]*\\w)`, "giu");
  return (
    <>
      {text.split(pattern).map((piece, i) =>
        i % 2 === 1 ? <span key={i} className="rounded bg-amber-200/70 px-0.5 font-medium text-amber-950" data-mention="">{piece}</span> : <Fragment key={i}>{piece}</Fragment>,
      )}
    </>
  );
}

type Edit = { text?: string; replaced_at?: string };
const earlier = (m: Message): Edit[] =>
  (((m.metadata as { edits?: Edit[] } | undefined)?.edits ?? []) as Edit[]).filter((e) => typeof e.text === "string" && !e.text.startsWith("pytake:sealed:"));

function Bubble({ m, people }: { m: Message; people: string[] }) {
  const { t, i18n } = useTranslation();
  const outbound = m.direction === "OUTBOUND";
  const note = m.direction === "NOTE";
  const flow = (m.metadata as { flow?: { name?: string; node?: string; version?: number } } | undefined)?.flow;
  const edits = earlier(m);
  return (
    <div className={cn("flex", outbound || note ? "justify-end" : "justify-start")} data-message={m.id} data-direction={m.direction}>
      <div
        className={cn(
          "max-w-[72%] rounded-2xl px-3.5 py-2 text-sm shadow-xs",
          outbound && "rounded-br-md bg-bubble-out text-foreground",
          note && "rounded-br-md border border-dashed border-amber-300 bg-bubble-note",
          !outbound && !note && "rounded-bl-md border bg-background",
        )}
      >
        {note && (
          <p className="mb-1 flex items-center gap-1 text-[11px] font-medium text-amber-800">
            <Lock className="size-3" aria-hidden /> {t("conversation.note")}
          </p>
        )}
        {flow && (
          <p className="mb-1 flex items-center gap-1 text-[11px] font-medium text-info-strong" data-flow={flow.name}>
            <Bot className="size-3" aria-hidden /> {t("inbox-plus.botFlow", { flow: flow.name ?? "?", node: flow.node ?? "?" })}
          </p>
        )}
        {m.deletedAt ? (
          <p className="flex items-center gap-1.5 italic text-muted-foreground" data-unsent="">
            <AlertTriangle className="size-3.5 shrink-0" aria-hidden /> {t("conversation.unsent")}
            {m.text ? <span className="line-through decoration-muted-foreground/60">{m.text}</span> : null}
          </p>
        ) : (
          <>
            <Media m={m} />
            {!(textIsPreview(m) && m.text) && (m.text || !m.attachments?.length) && (
              <p className="whitespace-pre-wrap break-words">{note && m.text ? <NoteText text={m.text} people={people} /> : m.text ?? `[${m.kind.toLowerCase()}]`}</p>
            )}
          </>
        )}
        {edits.length > 0 && !m.deletedAt && (
          <details className="mt-1 text-[11px] text-muted-foreground" data-edits={edits.length}>
            <summary className="cursor-pointer select-none">{t("inbox-plus.earlierVersions", { count: edits.length })}</summary>
            <ul className="mt-1 space-y-0.5 border-l pl-2">
              {edits.map((e, i) => <li key={i} className="line-through">{e.text}</li>)}
            </ul>
          </details>
        )}
        <p className="mt-1 flex items-center justify-end gap-1 text-[11px] text-muted-foreground">
          {m.platform && <span>{platformLabel(m.platform)}</span>}
          {m.platform && <span aria-hidden>·</span>}
          {m.editedAt && !m.deletedAt && <span>{t("conversation.edited")} ·</span>}
          {(outbound || note) && m.sender?.name && <span>{m.sender.name} ·</span>}
          <time dateTime={m.createdAt}>{clockTime(m.createdAt, i18n.language)}</time>
          {outbound && <Tick status={m.status} />}
        </p>
        {m.status === "FAILED" && (
          <p className="mt-1 rounded bg-red-50 px-2 py-1 text-xs text-red-800">
            {m.errorReason ?? t("ticks.FAILED")} {m.errorCode ? <span className="font-mono">({m.errorCode})</span> : null}
          </p>
        )}
      </div>
    </div>
  );
}

function ActivityLine({ a, at }: { a: Activity; at: string }) {
  const { t, i18n } = useTranslation();
  const { icon: Icon, tone } = activityStyle(a.type);
  return (
    <p className={cn("mx-auto flex w-fit max-w-[80%] items-center gap-1.5 rounded-full px-3 py-1 text-center text-xs", tone)} data-activity={a.type}>
      <Icon className="size-3.5 shrink-0" aria-hidden />
      <span>{describeActivity(a, t)} · <time dateTime={at}>{clockTime(at, i18n.language)}</time></span>
    </p>
  );
}

export function Timeline({ items, people = [] }: { items: TimelineItem[]; people?: string[] }) {
  const { i18n } = useTranslation();
  let lastDay = "";
  return (
    <ol className="flex flex-col gap-2" aria-label="Timeline">
      {items.map((item) => {
        const day = new Date(item.at).toDateString();
        const separator = day !== lastDay;
        lastDay = day;
        return (
          <Fragment key={item.kind === "message" ? `m-${item.message.id}` : `a-${item.activity.id}`}>
            {separator && (
              <li className="my-2 flex items-center gap-3 text-[11px] font-medium uppercase tracking-wide text-muted-foreground" aria-hidden>
                <span className="h-px flex-1 bg-border" />
                {dayLabel(item.at, i18n.language)}
                <span className="h-px flex-1 bg-border" />
              </li>
            )}
            <li>
              {item.kind === "message" ? (
                <Bubble m={item.message} people={people} />
              ) : (
                <ActivityLine a={item.activity} at={item.at} />
              )}
            </li>
          </Fragment>
        );
      })}
    </ol>
  );
}
