import { AlertTriangle, CheckCircle2, CircleDashed, CirclePause } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Badge } from "@/components/ui/badge";
import type { AdminChannel } from "./types";

const LOOK = {
  OK: { variant: "success", Icon: CheckCircle2 },
  WAITING: { variant: "info", Icon: CircleDashed },
  ERROR: { variant: "danger", Icon: AlertTriangle },
  DISABLED: { variant: "outline", Icon: CirclePause },
} as const;

/** The channel's health as a badge: healthy, waiting for a first webhook, failing, disabled. */
export function HealthBadge({ health }: { health: AdminChannel["health"] }) {
  const { t } = useTranslation();
  const { variant, Icon } = LOOK[health];
  return (
    <Badge variant={variant} data-health={health}>
      <Icon aria-hidden /> {t(`admin-channels.health.${health}`)}
    </Badge>
  );
}
