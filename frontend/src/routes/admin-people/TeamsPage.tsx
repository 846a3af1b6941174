// Settings → Teams: each team with its members, assignment strategy, sticky assignment and offline
// grace; create and edit (supervisors and admins), delete (admins; refused while still in use).
import { MoreHorizontal, Pencil, Plus, Trash2, UsersRound } from "lucide-react";
import { useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { PeopleTeamsQuery } from "@/api/graphql.generated";
import { PEOPLE_DELETE_TEAM, PEOPLE_TEAMS } from "@/api/ops/admin-people";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold, useListQuery } from "@/components/ListScaffold";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuSeparator, DropdownMenuTrigger } from "@/components/ui/dropdown-menu";
import { Avatar } from "@/components/ui/misc";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { useServices } from "@/services";
import { peopleError, teamUses } from "./logic";
import { TeamPanel } from "./TeamPanel";
import { UsersTableSkeleton } from "./UsersTable";

type TeamRow = PeopleTeamsQuery["teams"][number];
const FACES = 4;

function grace(seconds: number, lng: string): string {
  const unit = seconds % 60 === 0 ? { n: seconds / 60, unit: "minute" } : { n: seconds, unit: "second" };
  return new Intl.NumberFormat(lng, { style: "unit", unit: unit.unit, unitDisplay: "short" }).format(unit.n);
}

export default function TeamsPage() {
  const { t, i18n } = useTranslation();
  const { me } = useServices();
  const isAdmin = me.role === "ADMIN";
  const state = useListQuery<PeopleTeamsQuery>({ query: PEOPLE_TEAMS });
  const { data, retry: refresh } = state;
  const [editing, setEditing] = useState<TeamRow | "new" | null>(null);
  const [deleting, setDeleting] = useState<TeamRow | null>(null);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [, remove] = useMutation(PEOPLE_DELETE_TEAM);
  const people = data?.users ?? [];
  const byId = useMemo(() => new Map(people.map((p) => [p.id, p])), [people]);
  const teams = data?.teams ?? [];
  const uses = deleteError ? teamUses(deleteError) : null;

  // The confirmation closes itself on click; while the deletion runs it stays open, so a refusal
  // (still in use) is shown where it was asked for.
  const pending = useRef(false);
  const confirmDelete = async () => {
    if (!deleting) return;
    pending.current = true;
    setBusy(true);
    const r = await remove({ id: deleting.id });
    pending.current = false;
    setBusy(false);
    if (r.error) return setDeleteError(r.error);
    setDeleting(null);
    refresh();
  };

  return (
    <AdminFrame
      title={t("people.teams.title")}
      description={t("people.teams.subtitle")}
      actions={
        <Button onClick={() => setEditing("new")}>
          <Plus className="size-4" aria-hidden /> {t("people.teams.create")}
        </Button>
      }
    >
      <ListScaffold
        state={state}
        isEmpty={(d) => d.teams.length === 0}
        empty={<EmptyState icon={<UsersRound />} title={t("people.teams.empty")} description={t("people.teams.emptyHint")} action={<Button onClick={() => setEditing("new")}>{t("people.teams.create")}</Button>} />}
        skeleton={<UsersTableSkeleton />}
      >
        {() => (
          <>
            <p className="mb-3 text-sm text-muted-foreground">{t("people.teams.count", { count: teams.length })}</p>
            <Table>
              <THead>
                <tr>
                  <Th className="w-[28%]">{t("people.teams.name")}</Th>
                  <Th>{t("people.teams.members")}</Th>
                  <Th>{t("people.teams.strategy")}</Th>
                  <Th>{t("people.teams.sticky")}</Th>
                  <Th numeric>{t("people.teams.grace")}</Th>
                  <Th className="w-12"><span className="sr-only">{t("people.teams.actions")}</span></Th>
                </tr>
              </THead>
              <TBody>
                {teams.map((team) => {
                  const members = team.memberIds.map((id) => byId.get(id)).filter((m): m is NonNullable<typeof m> => !!m);
                  return (
                    <Tr key={team.id} data-team={team.name}>
                      <Td>
                        <div className="flex items-center gap-3">
                          <span className="flex size-9 items-center justify-center rounded-lg bg-primary/10 text-primary"><UsersRound className="size-4" aria-hidden /></span>
                          <span className="font-medium">{team.name}</span>
                        </div>
                      </Td>
                      <Td>
                        {members.length === 0 ? (
                          <span className="text-xs text-muted-foreground">{t("people.teams.noMembers")}</span>
                        ) : (
                          <div className="flex items-center gap-2" title={members.map((m) => m.name).join(", ")}>
                            <div className="flex -space-x-2">
                              {members.slice(0, FACES).map((m) => <Avatar key={m.id} name={m.name} className="size-7 text-[10px] ring-2 ring-background" />)}
                            </div>
                            <span className="text-sm text-muted-foreground" data-members={members.length}>{t("people.teams.membersCount", { count: members.length })}</span>
                          </div>
                        )}
                      </Td>
                      <Td><Badge variant={team.strategy === "MANUAL" ? "outline" : "info"}>{t(`people.strategy.${team.strategy}`)}</Badge></Td>
                      <Td>{team.sticky ? <Badge variant="success">{t("people.teams.yes")}</Badge> : <span className="text-sm text-muted-foreground">{t("people.teams.no")}</span>}</Td>
                      <Td numeric className="text-muted-foreground">{grace(team.offlineGraceSeconds, i18n.language)}</Td>
                      <Td className="text-right">
                        <DropdownMenu>
                          <DropdownMenuTrigger aria-label={t("people.teams.actionsFor", { name: team.name })} className="inline-flex size-8 items-center justify-center rounded-md text-muted-foreground hover:bg-muted hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
                            <MoreHorizontal className="size-4" aria-hidden />
                          </DropdownMenuTrigger>
                          <DropdownMenuContent align="end">
                            <DropdownMenuItem onSelect={() => setEditing(team)}><Pencil aria-hidden /> {t("people.teams.edit")}</DropdownMenuItem>
                            {isAdmin && (
                              <>
                                <DropdownMenuSeparator />
                                <DropdownMenuItem onSelect={() => { setDeleteError(null); setDeleting(team); }} className="text-danger-strong focus:text-danger-strong">
                                  <Trash2 aria-hidden /> {t("people.teams.delete")}
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
            {!isAdmin && <p className="mt-3 text-xs text-muted-foreground">{t("people.teams.readOnly")}</p>}
          </>
        )}
      </ListScaffold>

      {editing && <TeamPanel team={editing === "new" ? null : editing} people={people} onClose={() => setEditing(null)} onSaved={refresh} />}
      <AlertDialog open={!!deleting} onOpenChange={(open) => !open && !pending.current && setDeleting(null)}>
        {deleting && (
          <AlertDialogContent
            title={t("people.team.deleteTitle", { name: deleting.name })}
            description={t("people.team.deleteBody")}
            cancelLabel={t("people.users.cancel")}
            confirmLabel={t("people.team.deleteConfirm")}
            confirmDisabled={busy || !!uses}
            onConfirm={() => void confirmDelete()}
          >
            {uses ? (
              <div role="alert" className="rounded-md border border-warning-soft bg-warning-soft/50 px-3 py-2.5 text-sm" data-team-in-use>
                <p className="font-medium text-warning-strong">{t("people.team.inUseTitle")}</p>
                <p className="mt-0.5 text-muted-foreground">{t("people.team.inUseBody")}</p>
                <ul className="mt-1.5 list-disc space-y-0.5 pl-5">
                  {Object.entries(uses).map(([key, count]) => <li key={key}>{t(`people.team.use.${key}`, { count })}</li>)}
                </ul>
              </div>
            ) : deleteError ? (
              <p role="alert" className="rounded-md bg-danger-soft/60 px-3 py-2 text-sm text-danger-strong">{peopleError(deleteError, t, "other")}</p>
            ) : null}
          </AlertDialogContent>
        )}
      </AlertDialog>
    </AdminFrame>
  );
}
