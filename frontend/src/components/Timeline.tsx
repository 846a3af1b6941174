import { AlertTriangle, Check, CheckCheck, Clock, FileText, Lock, Paperclip } from "lucide-react";
import { Fragment } from "react";
import { useTranslation } from "react-i18next";
import type { TFunction } from "i18next";
import type { Activity, Message } from "@/api/types";
import { clockTime, dayLabel } from "@/lib/time";
import { cn } from "@/lib/utils";
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
    default:
      return t("activity.other", { who, type: a.type.replace(/_/g, " ") });
  }
}

function Bubble({ m }: { m: Message }) {
  const { t, i18n } = useTranslation();
  const outbound = m.direction === "OUTBOUND";
  const note = m.direction === "NOTE";
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
        {m.attachments?.map((a, i) =>
          a.kind === "IMAGE" && a.url ? (
            <img key={i} src={a.url} alt={a.filename ?? ""} className="mb-1.5 max-h-60 rounded-lg" />
          ) : (
            <span key={i} className="mb-1.5 flex items-center gap-1.5 rounded-md bg-black/5 px-2 py-1 text-xs">
              {a.kind === "DOCUMENT" ? <FileText className="size-3.5" aria-hidden /> : <Paperclip className="size-3.5" aria-hidden />}
              {a.filename ?? a.mimeType ?? a.kind.toLowerCase()}
            </span>
          ),
        )}
        <p className="whitespace-pre-wrap break-words">
          {m.deletedAt ? <em className="text-muted-foreground">{t("conversation.unsent")}</em> : m.text ?? `[${m.kind.toLowerCase()}]`}
        </p>
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

export function Timeline({ items }: { items: TimelineItem[] }) {
  const { t, i18n } = useTranslation();
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
                <Bubble m={item.message} />
              ) : (
                <p className="mx-auto w-fit rounded-full bg-muted px-3 py-1 text-center text-xs text-muted-foreground" data-activity={item.activity.type}>
                  {describeActivity(item.activity, t)} · <time dateTime={item.at}>{clockTime(item.at, i18n.language)}</time>
                </p>
              )}
            </li>
          </Fragment>
        );
      })}
    </ol>
  );
}
