import { AlarmClock, CircleAlert } from "lucide-react";
import { useTranslation } from "react-i18next";
import type { SlaTimer } from "@/api/types";
import { shortDuration, slaState } from "@/state/sla";
import { Badge } from "./ui/badge";

/** Time left on the most urgent running SLA timer: calm, warning (past its warn time), breached. */
export function SlaBadge({ timers, now }: { timers: readonly SlaTimer[] | null | undefined; now: number }) {
  const { t } = useTranslation();
  const sla = slaState(timers, now);
  if (!sla) return null;
  const kind = t(`sla.${sla.kind}`, { defaultValue: sla.kind });
  const text = sla.level === "breached" ? t("sla.overdue", { time: shortDuration(sla.msLeft) }) : t("sla.left", { time: shortDuration(sla.msLeft) });
  const variant = sla.level === "breached" ? "danger" : sla.level === "warning" ? "warning" : "outline";
  return (
    <Badge variant={variant} data-sla={sla.level} title={`${kind}: ${text}`}>
      {sla.level === "breached" ? <CircleAlert aria-hidden /> : <AlarmClock aria-hidden />}
      <span className="sr-only">{kind}: </span>
      {text}
    </Badge>
  );
}
