// Create or edit a team: name, members, assignment strategy, sticky assignment and offline grace
// (saveTeam replaces the members with the ones ticked).
import { zodResolver } from "@hookform/resolvers/zod";
import { Search } from "lucide-react";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { PeopleTeamsQuery } from "@/api/graphql.generated";
import { PEOPLE_SAVE_TEAM } from "@/api/ops/admin-people";
import { SidePanel } from "@/components/admin-people/SidePanel";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Avatar } from "@/components/ui/misc";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { Switch } from "@/components/ui/switch";
import { RoleBadge } from "./badges";
import { filterUsers, peopleError, STRATEGIES, teamSchema, type TeamForm } from "./logic";

type TeamRow = PeopleTeamsQuery["teams"][number];
type Person = PeopleTeamsQuery["users"][number];

export function TeamPanel({ team, people, onClose, onSaved }: { team: TeamRow | null; people: readonly Person[]; onClose: () => void; onSaved: () => void }) {
  const { t } = useTranslation();
  const [, save] = useMutation(PEOPLE_SAVE_TEAM);
  const [failure, setFailure] = useState<string | null>(null);
  const [filter, setFilter] = useState("");
  const { control, register, handleSubmit, formState, watch } = useForm<TeamForm>({
    resolver: zodResolver(teamSchema),
    defaultValues: team
      ? { name: team.name, strategy: team.strategy, sticky: team.sticky, graceMinutes: Math.round(team.offlineGraceSeconds / 60), memberIds: team.memberIds }
      : { name: "", strategy: "LEAST_LOADED", sticky: true, graceMinutes: 5, memberIds: [] },
  });
  const strategy = watch("strategy");
  // Only active people can be members (the server refuses the others); current members stay listed.
  const candidates = filterUsers(people.filter((p) => p.isActive || team?.memberIds.includes(p.id)).map((p) => ({ ...p, invitedUntil: null })), filter, "all", 0);

  const submit = handleSubmit(async (values) => {
    setFailure(null);
    const r = await save({
      teamId: team?.id ?? null,
      name: values.name,
      memberIds: values.memberIds,
      strategy: values.strategy,
      sticky: values.sticky,
      offlineGraceSeconds: values.graceMinutes * 60,
    });
    if (r.error) return setFailure(peopleError(r.error, t, "team"));
    onSaved();
    onClose();
  });
  const err = (m?: string) => (m ? t(`people.${m}`) : undefined);

  return (
    <SidePanel
      open
      onOpenChange={(open) => !open && onClose()}
      title={team ? t("people.team.editTitle", { name: team.name }) : t("people.team.createTitle")}
      description={t("people.team.description")}
      closeLabel={t("people.users.close")}
      footer={
        <>
          <Button variant="outline" onClick={onClose}>{t("people.users.cancel")}</Button>
          <Button type="submit" form="people-team" disabled={formState.isSubmitting}>
            {formState.isSubmitting ? t("people.team.saving") : t("people.team.save")}
          </Button>
        </>
      }
    >
      <form id="people-team" onSubmit={submit} noValidate className="space-y-5">
        <Field label={t("people.team.name")} error={err(formState.errors.name?.message)}>
          <Input autoComplete="off" {...register("name")} />
        </Field>
        <Controller
          control={control}
          name="strategy"
          render={({ field }) => (
            <div className="space-y-1.5">
              <label htmlFor="people-strategy" className="block text-sm font-medium">{t("people.team.strategy")}</label>
              <Select value={field.value} onValueChange={field.onChange}>
                <SelectTrigger id="people-strategy" aria-describedby="people-strategy-hint" className="h-9 text-sm"><SelectValue /></SelectTrigger>
                <SelectContent>
                  {STRATEGIES.map((s) => <SelectItem key={s} value={s}>{t(`people.strategy.${s}`)}</SelectItem>)}
                </SelectContent>
              </Select>
              <p id="people-strategy-hint" className="text-xs text-muted-foreground">{t(`people.strategyHint.${strategy}`)}</p>
            </div>
          )}
        />
        <Controller
          control={control}
          name="sticky"
          render={({ field }) => (
            <div className="flex items-start justify-between gap-4 rounded-lg border border-border px-3 py-3">
              <div>
                <label htmlFor="people-sticky" className="block text-sm font-medium">{t("people.team.sticky")}</label>
                <p id="people-sticky-hint" className="text-xs text-muted-foreground">{t("people.team.stickyHint")}</p>
              </div>
              <Switch id="people-sticky" aria-describedby="people-sticky-hint" checked={field.value} onCheckedChange={field.onChange} />
            </div>
          )}
        />
        <Field label={t("people.team.grace")} hint={t("people.team.graceHint")} error={err(formState.errors.graceMinutes?.message)}>
          <Input type="number" inputMode="numeric" min={0} max={1440} className="w-32" {...register("graceMinutes", { valueAsNumber: true })} />
        </Field>
        <Controller
          control={control}
          name="memberIds"
          render={({ field }) => (
            <fieldset>
              <div className="mb-2 flex items-baseline justify-between">
                <legend className="text-sm font-medium">{t("people.team.members")}</legend>
                <span className="text-xs text-muted-foreground">{t("people.team.selected", { count: field.value.length })}</span>
              </div>
              <div className="relative mb-2">
                <Search className="pointer-events-none absolute left-2.5 top-1/2 size-4 -translate-y-1/2 text-muted-foreground" aria-hidden />
                <Input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder={t("people.team.searchMembers")} aria-label={t("people.team.searchMembers")} className="pl-8" />
              </div>
              {candidates.length === 0 ? (
                <p className="py-3 text-center text-sm text-muted-foreground">{t("people.team.noPeople")}</p>
              ) : (
                <ul className="max-h-72 divide-y divide-border overflow-y-auto rounded-lg border border-border">
                  {candidates.map((p) => {
                    const id = `people-member-${p.id}`;
                    const checked = field.value.includes(p.id);
                    return (
                      <li key={p.id} className="flex items-center gap-3 px-3 py-2">
                        <Checkbox id={id} checked={checked} onCheckedChange={(on) => field.onChange(on === true ? [...field.value, p.id] : field.value.filter((v) => v !== p.id))} />
                        <Avatar name={p.name} className="size-7 text-[10px]" />
                        <label htmlFor={id} className="min-w-0 flex-1 cursor-pointer">
                          <span className="block truncate text-sm font-medium">{p.name}</span>
                          <span className="block truncate text-xs text-muted-foreground">{p.email}</span>
                        </label>
                        <RoleBadge role={p.role} />
                      </li>
                    );
                  })}
                </ul>
              )}
            </fieldset>
          )}
        />
        {failure && <p role="alert" className="rounded-md bg-danger-soft/60 px-3 py-2 text-sm text-danger-strong">{failure}</p>}
      </form>
    </SidePanel>
  );
}
