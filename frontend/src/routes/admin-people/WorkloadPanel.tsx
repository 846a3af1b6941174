// An agent's capacity and skills (updateAgent); skills complete from those already in use.
import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import type { PeopleKnownSkillsQuery } from "@/api/graphql.generated";
import { PEOPLE_KNOWN_SKILLS, PEOPLE_UPDATE_AGENT } from "@/api/ops/admin-people";
import { SidePanel } from "@/components/admin-people/SidePanel";
import { SkillsInput } from "@/components/admin-people/SkillsInput";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { peopleError, workloadSchema, type PersonRow, type WorkloadForm } from "./logic";

export function WorkloadPanel({ user, onClose, onSaved }: { user: PersonRow; onClose: () => void; onSaved: () => void }) {
  const { t } = useTranslation();
  const [{ data: known }] = useQuery<PeopleKnownSkillsQuery>({ query: PEOPLE_KNOWN_SKILLS });
  const [, update] = useMutation(PEOPLE_UPDATE_AGENT);
  const [failure, setFailure] = useState<string | null>(null);
  const { control, register, handleSubmit, formState } = useForm<WorkloadForm>({
    resolver: zodResolver(workloadSchema),
    defaultValues: { capacity: user.capacity ?? 10, skills: user.skills ?? [] },
  });
  const submit = handleSubmit(async (values) => {
    setFailure(null);
    const r = await update({ userId: user.id, capacity: values.capacity, skills: values.skills });
    if (r.error) return setFailure(peopleError(r.error, t, "other"));
    onSaved();
    onClose();
  });
  const err = (m?: string) => (m ? t(`people.${m}`) : undefined);

  return (
    <SidePanel
      open
      onOpenChange={(open) => !open && onClose()}
      title={t("people.workload.title", { name: user.name })}
      description={t("people.workload.description")}
      closeLabel={t("people.users.close")}
      footer={
        <>
          <Button variant="outline" onClick={onClose}>{t("people.users.cancel")}</Button>
          <Button type="submit" form="people-workload" disabled={formState.isSubmitting}>
            {formState.isSubmitting ? t("people.edit.saving") : t("people.edit.save")}
          </Button>
        </>
      }
    >
      <form id="people-workload" onSubmit={submit} noValidate className="space-y-6">
        <Field label={t("people.workload.capacity")} hint={t("people.workload.capacityHint")} error={err(formState.errors.capacity?.message)}>
          <Input type="number" inputMode="numeric" min={0} max={1000} className="w-32" {...register("capacity", { valueAsNumber: true })} />
        </Field>
        <div className="space-y-1.5">
          <label htmlFor="people-skills" className="block text-sm font-medium">{t("people.workload.skills")}</label>
          <Controller
            control={control}
            name="skills"
            render={({ field }) => <SkillsInput id="people-skills" describedBy="people-skills-hint" value={field.value} onChange={field.onChange} known={known?.knownSkills ?? []} />}
          />
          <p id="people-skills-hint" className="text-xs text-muted-foreground">
            {formState.errors.skills?.message ? err(formState.errors.skills.message) : t("people.workload.skillsHint")}
          </p>
        </div>
        {failure && <p role="alert" className="rounded-md bg-danger-soft/60 px-3 py-2 text-sm text-danger-strong">{failure}</p>}
      </form>
    </SidePanel>
  );
}
