// The users' table: who, role, teams, status, last seen, and each row's actions.
import { Gauge, MoreHorizontal, Power, ShieldCheck } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Badge } from "@/components/ui/badge";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuSeparator, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { platformLabel } from "@/components/PlatformIcon";
import { Avatar, Skeleton } from "@/components/ui/misc";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { Tooltip } from "@/components/ui/tooltip";
import { listTime } from "@/lib/time";
import { PresenceDot, RoleBadge, StatusBadge } from "./badges";
import { platformCapacitySummary, userStatus, type PersonRow } from "./logic";

const MAX_TEAMS = 2;
const MAX_SKILLS_SHOWN = 2;

export function UsersTable({ users, teamName, now, meId, onEdit, onWorkload, onToggleActive }: {
  users: PersonRow[];
  teamName: Map<string, string>;
  now: number;
  meId: string;
  onEdit: (u: PersonRow) => void;
  onWorkload: (u: PersonRow) => void;
  onToggleActive: (u: PersonRow) => void;
}) {
  const { t, i18n } = useTranslation();
  return (
    <Table>
      <THead>
        <tr>
          <Th className="w-[28%]">{t("people.users.name")}</Th>
          <Th>{t("people.users.role")}</Th>
          <Th>{t("people.users.teams")}</Th>
          <Th>{t("people.users.skills")}</Th>
          <Th numeric>{t("people.users.capacity")}</Th>
          <Th>{t("people.users.status")}</Th>
          <Th>{t("people.users.lastSeen")}</Th>
          <Th className="w-12"><span className="sr-only">{t("people.users.actions")}</span></Th>
        </tr>
      </THead>
      <TBody>
        {users.map((u) => {
          const status = userStatus(u, now);
          const teams = (u.teamIds ?? []).map((id) => teamName.get(id)).filter((n): n is string => !!n);
          return (
            <Tr key={u.id} data-user={u.email ?? u.id}>
              <Td>
                <div className="flex items-center gap-3">
                  <span className="relative">
                    <Avatar name={u.name} className={u.isActive ? "" : "opacity-50"} />
                    <PresenceDot presence={u.presence} className="absolute -bottom-0.5 -right-0.5" />
                  </span>
                  <div className="min-w-0">
                    <p className="flex items-center gap-1.5 truncate font-medium">
                      {u.name}
                      {u.id === meId && <Badge variant="outline">{t("people.users.you")}</Badge>}
                    </p>
                    <p className="truncate text-xs text-muted-foreground">{u.email}</p>
                  </div>
                </div>
              </Td>
              <Td>
                <div className="flex flex-wrap items-center gap-1">
                  <RoleBadge role={u.role} />
                  {u.seesAllConversations && (
                    <Tooltip content={t("people.users.seesAllHint")}>
                      <span tabIndex={0} className="rounded text-xs text-muted-foreground underline decoration-dotted underline-offset-2 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
                        {t("people.users.seesAll")}
                      </span>
                    </Tooltip>
                  )}
                </div>
              </Td>
              <Td>
                {teams.length === 0 ? (
                  <span className="text-xs text-muted-foreground">{t("people.users.noTeams")}</span>
                ) : (
                  <div className="flex flex-wrap gap-1">
                    {teams.slice(0, MAX_TEAMS).map((name) => <Badge key={name} variant="secondary">{name}</Badge>)}
                    {teams.length > MAX_TEAMS && <Badge variant="outline" title={teams.slice(MAX_TEAMS).join(", ")}>+{teams.length - MAX_TEAMS}</Badge>}
                  </div>
                )}
              </Td>
              <Td>
                {(u.skills ?? []).length === 0 ? (
                  <span className="text-xs text-muted-foreground">—</span>
                ) : (
                  <div className="flex flex-wrap gap-1" data-skills={(u.skills ?? []).join(",")}>
                    {(u.skills ?? []).slice(0, MAX_SKILLS_SHOWN).map((s) => (
                      <span key={s} className="rounded-full bg-primary/10 px-2 py-0.5 text-xs font-medium text-primary">{s}</span>
                    ))}
                    {(u.skills ?? []).length > MAX_SKILLS_SHOWN && <Badge variant="outline" title={(u.skills ?? []).slice(MAX_SKILLS_SHOWN).join(", ")}>+{(u.skills ?? []).length - MAX_SKILLS_SHOWN}</Badge>}
                  </div>
                )}
              </Td>
              <Td numeric data-capacity={u.capacity ?? ""}>
                {u.capacity ?? "—"}
                {platformCapacitySummary(u.platformCapacity, platformLabel) && (
                  <span className="block whitespace-nowrap text-[11px] text-muted-foreground" data-platform-capacities>
                    {platformCapacitySummary(u.platformCapacity, platformLabel)}
                  </span>
                )}
              </Td>
              <Td><StatusBadge status={status} /></Td>
              <Td className="whitespace-nowrap text-muted-foreground">
                {u.lastSeenAt ? listTime(u.lastSeenAt, now, i18n.language, t("time.now", { defaultValue: "now" })) : t("people.users.never")}
              </Td>
              <Td className="text-right">
                <DropdownMenu>
                  <DropdownMenuTrigger aria-label={t("people.users.actionsFor", { name: u.name })} className="inline-flex size-8 items-center justify-center rounded-md text-muted-foreground hover:bg-muted hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
                    <MoreHorizontal className="size-4" aria-hidden />
                  </DropdownMenuTrigger>
                  <DropdownMenuContent align="end">
                    <DropdownMenuItem onSelect={() => onEdit(u)}><ShieldCheck aria-hidden /> {t("people.users.edit")}</DropdownMenuItem>
                    <DropdownMenuItem onSelect={() => onWorkload(u)}><Gauge aria-hidden /> {t("people.users.workload")}</DropdownMenuItem>
                    {u.id !== meId && (
                      <>
                        <DropdownMenuSeparator />
                        <DropdownMenuItem onSelect={() => onToggleActive(u)} className={u.isActive ? "text-danger-strong focus:text-danger-strong" : ""}>
                          <Power aria-hidden /> {t(u.isActive ? "people.users.deactivate" : "people.users.reactivate")}
                        </DropdownMenuItem>
                      </>
                    )}
                  </DropdownMenuContent>
                </DropdownMenu>
              </Td>
            </Tr>
          );
        })}
      </TBody>
    </Table>
  );
}

export function UsersTableSkeleton() {
  return (
    <div className="space-y-2 rounded-lg border border-border p-4">
      {Array.from({ length: 6 }, (_, i) => (
        <div key={i} className="flex items-center gap-3">
          <Skeleton className="size-9 rounded-full" />
          <Skeleton className="h-4 w-48" />
          <Skeleton className="ml-auto h-4 w-24" />
        </div>
      ))}
    </div>
  );
}
