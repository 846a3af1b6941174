// An agent's capacity (overall and per platform) and skills (updateAgent); skills complete from
// those already in use. A platform left blank is limited by the overall capacity only.
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
import { platformLabel } from "@/components/PlatformIcon";
import { PLATFORMS, peopleError, platformCapacityForm, platformCapacityInput, workloadSchema, type PersonRow, type WorkloadForm } from "./logic";

export function WorkloadPanel({ user, onClose, onSaved }: { user: PersonRow; onClose: () => void; onSaved: () => void }) {
  const { t } = useTranslation();
  const [{ data: known }] = useQuery<PeopleKnownSkillsQuery>({ query: PEOPLE_KNOWN_SKILLS });
  const [, update] = useMutation(PEOPLE_UPDATE_AGENT);
  const [failure, setFailure] = useState<string | null>(null);
  const { control, register, handleSubmit, formState } = useForm<WorkloadForm>({
    resolver: zodResolver(workloadSchema),
    defaultValues: { capacity: user.capacity ?? 10, platformCapacity: platformCapacityForm(user.platformCapacity), skills: user.skills ?? [] },
  });
  const submit = handleSubmit(async (values) => {
    setFailure(null);
    const r = await update({
      userId: user.id,
      capacity: values.capacity,
      platformCapacity: platformCapacityInput(values.platformCapacity),
      skills: values.skills,
    });
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
        <fieldset className="space-y-2" aria-describedby="people-platform-hint">
          <legend className="text-sm font-medium">{t("people.workload.perPlatform")}</legend>
          <p id="people-platform-hint" className="text-xs text-muted-foreground">{t("people.workload.perPlatformHint")}</p>
          <div className="grid grid-cols-2 gap-x-4 gap-y-2">
            {PLATFORMS.map((p) => {
              const error = formState.errors.platformCapacity?.[p]?.message;
              return (
                <div key={p} data-platform-capacity={p}>
                  <div className="flex items-center justify-between gap-2">
                    <label htmlFor={`people-cap-${p}`} className="text-sm">{platformLabel(p)}</label>
                    <Input
                      id={`people-cap-${p}`}
                      inputMode="numeric"
                      placeholder="—"
                      className="h-8 w-20 text-right"
                      aria-invalid={error ? true : undefined}
                      aria-describedby={error ? `people-cap-${p}-error` : undefined}
                      {...register(`platformCapacity.${p}`)}
                    />
                  </div>
                  {error && <p id={`people-cap-${p}-error`} role="alert" className="mt-1 text-xs font-medium text-destructive">{err(error)}</p>}
                </div>
              );
            })}
          </div>
        </fieldset>
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
