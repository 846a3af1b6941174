// Small labelled marks shared by the people tables: status, role, presence.
import { useTranslation } from "react-i18next";
import { Badge } from "@/components/ui/badge";
import { cn } from "@/lib/utils";
import type { UserStatus } from "./logic";

const STATUS_VARIANT = { active: "success", invited: "info", expired: "warning", deactivated: "outline" } as const;

export function StatusBadge({ status }: { status: UserStatus }) {
  const { t } = useTranslation();
  return (
    <Badge variant={STATUS_VARIANT[status]} data-status={status}>
      {t(`people.status.${status}`)}
    </Badge>
  );
}

const ROLE_VARIANT = { ADMIN: "default", SUPERVISOR: "info", AGENT: "secondary" } as const;

export function RoleBadge({ role }: { role: string | null }) {
  const { t } = useTranslation();
  if (!role) return null;
  return (
    <Badge variant={ROLE_VARIANT[role as keyof typeof ROLE_VARIANT] ?? "secondary"} data-role={role}>
      {t(`people.role.${role}`)}
    </Badge>
  );
}

const DOT = { ONLINE: "bg-emerald-500", AWAY: "bg-amber-500", OFFLINE: "bg-slate-300" } as const;

export function PresenceDot({ presence, className }: { presence: string | null; className?: string }) {
  const { t } = useTranslation();
  const key = (presence ?? "OFFLINE") as keyof typeof DOT;
  return <span role="img" aria-label={t(`people.presence.${key}`)} className={cn("inline-block size-2 shrink-0 rounded-full ring-2 ring-background", DOT[key], className)} />;
}
