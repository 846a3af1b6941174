// Settings → Users: everyone with their role, teams, status and last sighting; invite, change
// access, capacity and skills, deactivate and reactivate (admins).
import { Search, UserPlus, Users as UsersIcon } from "lucide-react";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { PeopleUsersQuery } from "@/api/graphql.generated";
import { PEOPLE_DEACTIVATE, PEOPLE_REACTIVATE, PEOPLE_USERS } from "@/api/ops/admin-people";
import { AdminFrame } from "@/components/AdminFrame";
import { Toast } from "@/components/ErrorState";
import { ListScaffold, useListQuery } from "@/components/ListScaffold";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { useNow } from "@/hooks/useNow";
import { useServices } from "@/services";
import { AccessPanel } from "./AccessPanel";
import { InvitePanel } from "./InvitePanel";
import { filterUsers, peopleError, STATUSES, type PersonRow, type UserStatus } from "./logic";
import { UsersTable, UsersTableSkeleton } from "./UsersTable";
import { WorkloadPanel } from "./WorkloadPanel";

type Editing = { user: PersonRow; mode: "access" | "workload" } | null;

export default function UsersPage() {
  const { t } = useTranslation();
  const { me } = useServices();
  const now = useNow(30_000);
  const state = useListQuery<PeopleUsersQuery>({ query: PEOPLE_USERS });
  const { data, retry: refresh } = state;
  const [query, setQuery] = useState("");
  const [status, setStatus] = useState<UserStatus | "all">("all");
  const [inviting, setInviting] = useState(false);
  const [editing, setEditing] = useState<Editing>(null);
  const [confirm, setConfirm] = useState<PersonRow | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [, deactivate] = useMutation(PEOPLE_DEACTIVATE);
  const [, reactivate] = useMutation(PEOPLE_REACTIVATE);

  const users = data?.users ?? [];
  const teams = data?.teams ?? [];
  const teamName = useMemo(() => new Map(teams.map((team) => [team.id, team.name])), [teams]);
  const shown = filterUsers(users, query, status, now);

  const toggleActive = async (user: PersonRow) => {
    const r = await (user.isActive ? deactivate : reactivate)({ userId: user.id });
    if (r.error) setFailure(peopleError(r.error, t, "other"));
    refresh();
  };

  return (
    <AdminFrame
      title={t("people.users.title")}
      description={t("people.users.subtitle")}
      actions={
        <Button onClick={() => setInviting(true)}>
          <UserPlus className="size-4" aria-hidden /> {t("people.users.invite")}
        </Button>
      }
    >
      <div className="mb-4 flex flex-wrap items-center gap-3">
        <div className="relative w-72">
          <Search className="pointer-events-none absolute left-2.5 top-1/2 size-4 -translate-y-1/2 text-muted-foreground" aria-hidden />
          <Input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t("people.users.search")} aria-label={t("people.users.search")} className="pl-8" />
        </div>
        <Select value={status} onValueChange={(v) => setStatus(v as UserStatus | "all")}>
          <SelectTrigger aria-label={t("people.users.filter")} className="h-9 w-48 text-sm">
            <SelectValue />
          </SelectTrigger>
          <SelectContent>
            <SelectItem value="all">{t("people.users.all")}</SelectItem>
            {STATUSES.map((s) => (
              <SelectItem key={s} value={s}>{t(`people.status.${s}`)}</SelectItem>
            ))}
          </SelectContent>
        </Select>
        {data && <p className="ml-auto text-sm text-muted-foreground" aria-live="polite">{t("people.users.count", { count: shown.length })}</p>}
      </div>

      <ListScaffold
        state={state}
        isEmpty={(d) => d.users.length === 0}
        empty={<EmptyState icon={<UsersIcon />} title={t("people.users.empty")} description={t("people.users.emptyHint")} action={<Button onClick={() => setInviting(true)}>{t("people.users.invite")}</Button>} />}
        skeleton={<UsersTableSkeleton />}
      >
        {() =>
          shown.length === 0 ? (
            <EmptyState icon={<Search />} title={t("people.users.noMatch")} description={t("people.users.noMatchHint")} />
          ) : (
            <UsersTable
              users={shown}
              teamName={teamName}
              now={now}
              meId={me.id}
              onEdit={(user) => setEditing({ user, mode: "access" })}
              onWorkload={(user) => setEditing({ user, mode: "workload" })}
              onToggleActive={setConfirm}
            />
          )
        }
      </ListScaffold>

      <InvitePanel open={inviting} onOpenChange={setInviting} teams={teams} onInvited={refresh} />
      {editing?.mode === "access" && <AccessPanel user={editing.user} teams={teams} self={editing.user.id === me.id} onClose={() => setEditing(null)} onSaved={refresh} />}
      {editing?.mode === "workload" && <WorkloadPanel user={editing.user} onClose={() => setEditing(null)} onSaved={refresh} />}
      <AlertDialog open={!!confirm} onOpenChange={(open) => !open && setConfirm(null)}>
        {confirm && (
          <AlertDialogContent
            title={t(confirm.isActive ? "people.users.deactivateTitle" : "people.users.reactivateTitle", { name: confirm.name })}
            description={t(confirm.isActive ? "people.users.deactivateBody" : "people.users.reactivateBody")}
            cancelLabel={t("people.users.cancel")}
            confirmLabel={t(confirm.isActive ? "people.users.deactivate" : "people.users.reactivate")}
            destructive={confirm.isActive}
            onConfirm={() => void toggleActive(confirm)}
          />
        )}
      </AlertDialog>
      {failure && <Toast message={failure} onDismiss={() => setFailure(null)} />}
    </AdminFrame>
  );
}
