// Create or edit an SLA policy: who it applies to, its targets, business hours and holidays.
import { zodResolver } from "@hookform/resolvers/zod";
import { ArrowLeft, Timer } from "lucide-react";
import { useEffect, useMemo, useState, type ReactNode } from "react";
import { Controller, useForm, type FieldErrors } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";
import type { AdminSlaPoliciesQuery } from "@/api/graphql.generated";
import { ADMIN_CREATE_SLA_POLICY, ADMIN_SLA_POLICIES, ADMIN_UPDATE_SLA_POLICY } from "@/api/ops/admin-routing";
import { AdminFrame } from "@/components/AdminFrame";
import { ErrorState } from "@/components/ErrorState";
import { platformLabel } from "@/components/PlatformIcon";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, EmptyState } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/misc";
import { Switch } from "@/components/ui/switch";
import { ANY, Choice } from "../Choice";
import { timeZones, type Day } from "../hours";
import { useAdminData, useMutate } from "../useAdminData";
import { formOf, inputOf, policySchema, TARGETS, type PolicyForm } from "./form";
import { HolidaysEditor } from "./HolidaysEditor";
import { PolicySummary } from "./PolicySummary";
import type { Policy, TeamRef } from "./types";
import { WeekEditor } from "./WeekEditor";

const K = "admin-routing.sla";
const PLATFORMS = ["WHATSAPP", "MESSENGER", "INSTAGRAM", "TELEGRAM", "DISCORD", "SLACK", "WEBCHAT", "SMS", "EMAIL", "LINE", "VIBER", "WECHAT"];
const PRIORITIES = ["LOW", "NORMAL", "HIGH", "URGENT"];

export function SlaEditorPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const id = params.get("id");
  const { data, error, loading, reload } = useAdminData<AdminSlaPoliciesQuery>(ADMIN_SLA_POLICIES);
  const policy = id ? (data?.slaPolicies.find((p) => p.id === id) ?? null) : null;
  const title = id ? t(`${K}.editTitle`) : t(`${K}.newTitle`);
  const back = (
    <Button variant="outline" asChild>
      <Link to="/admin/sla">
        <ArrowLeft aria-hidden /> {t(`${K}.back`)}
      </Link>
    </Button>
  );
  return (
    <AdminFrame title={policy ? policy.name : title} description={policy ? title : t(`${K}.description`)} actions={back}>
      {loading && !data ? (
        <div className="max-w-3xl space-y-4">
          {[0, 1, 2].map((i) => <Skeleton key={i} className="h-40 w-full" />)}
        </div>
      ) : error && !data ? (
        <ErrorState error={error} onRetry={() => void reload()} />
      ) : id && !policy ? (
        <EmptyState icon={<Timer aria-hidden />} title={t(`${K}.notFound`)} action={back} />
      ) : (
        <PolicyEditor key={id ?? "new"} policy={policy} teams={data?.teams ?? []} />
      )}
    </AdminFrame>
  );
}

function Section({ title, hint, children }: { title: string; hint: string; children: ReactNode }) {
  return (
    <Card>
      <CardHeader title={title} description={hint} />
      <CardBody className="space-y-4">{children}</CardBody>
    </Card>
  );
}

function PolicyEditor({ policy, teams }: { policy: Policy | null; teams: TeamRef[] }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const mutate = useMutate();
  const [failure, setFailure] = useState<unknown>(null);
  const browserZone = useMemo(() => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", []);
  const zones = useMemo(timeZones, []);
  const form = useForm<PolicyForm>({ resolver: zodResolver(policySchema), defaultValues: formOf(policy, browserZone) });
  const { register, control, handleSubmit, watch, formState } = form;
  const errors = formState.errors as FieldErrors<PolicyForm> & { week?: Partial<Record<Day, { message?: string }>> & { message?: string } };
  const message = (m: string | undefined) => (m ? t(`${K}.errors.${m}`) : undefined);
  const alwaysOpen = watch("alwaysOpen");
  useEffect(() => setFailure(null), [policy]);

  const submit = handleSubmit(async (values) => {
    setFailure(null);
    try {
      const input = inputOf(values);
      if (policy) await mutate(ADMIN_UPDATE_SLA_POLICY, { id: policy.id, input });
      else await mutate(ADMIN_CREATE_SLA_POLICY, { input });
      navigate("/admin/sla", { state: { notice: t(policy ? `${K}.updated` : `${K}.created`) } });
    } catch (e) {
      setFailure(e);
    }
  });

  const options = (values: string[], label: (v: string) => string) => [
    { value: ANY, label: t("admin-routing.common.any") },
    ...values.map((v) => ({ value: v, label: label(v) })),
  ];
  const weekErrors = Object.fromEntries(
    Object.entries(errors.week ?? {}).flatMap(([day, e]) => (e && typeof e === "object" && "message" in e && e.message ? [[day, e.message]] : [])),
  ) as Partial<Record<Day, string>>;

  return (
    <div className="flex items-start gap-6">
    <form onSubmit={(e) => void submit(e)} noValidate className="relative min-w-0 max-w-3xl flex-1 space-y-5" aria-label={policy ? policy.name : t(`${K}.newTitle`)}>
      {failure != null && (
        <div className="rounded-lg border border-red-200 bg-red-50/50">
          <ErrorState error={failure} compact />
        </div>
      )}
      <Section title={t(`${K}.form.basics`)} hint={t(`${K}.form.basicsHint`)}>
        <div className="grid grid-cols-[1fr_8rem] gap-4">
          <Field label={t(`${K}.form.name`)} error={message(errors.name?.message)}>
            <Input autoComplete="off" {...register("name")} />
          </Field>
          <Field label={t(`${K}.form.position`)} hint={t(`${K}.form.positionHint`)} error={message(errors.position?.message)}>
            <Input type="number" step={1} {...register("position", { valueAsNumber: true })} />
          </Field>
        </div>
      </Section>

      <Section title={t(`${K}.form.scope`)} hint={t(`${K}.form.scopeHint`)}>
        <div className="grid grid-cols-3 gap-4">
          <Controller control={control} name="teamId" render={({ field }) => (
            <Field label={t(`${K}.team`)}>
              <Choice value={field.value} onChange={field.onChange} options={options(teams.map((x) => x.id), (v) => teams.find((x) => x.id === v)?.name ?? v)} />
            </Field>
          )} />
          <Controller control={control} name="priority" render={({ field }) => (
            <Field label={t(`${K}.priority`)}>
              <Choice value={field.value} onChange={field.onChange} options={options(PRIORITIES, (v) => t(`${K}.priorities.${v}`))} />
            </Field>
          )} />
          <Controller control={control} name="platform" render={({ field }) => (
            <Field label={t(`${K}.platform`)}>
              <Choice value={field.value} onChange={field.onChange} options={options(PLATFORMS, platformLabel)} />
            </Field>
          )} />
        </div>
      </Section>

      <Section title={t(`${K}.form.targets`)} hint={t(`${K}.form.targetsHint`)}>
        <ul className="divide-y divide-border rounded-lg border border-border">
          {TARGETS.map((k) => {
            const on = watch(`${k}.on`);
            const label = t(`${K}.${k}`);
            return (
              <li key={k} className="flex items-center gap-4 px-4 py-3" data-target={k}>
                <Controller control={control} name={`${k}.on`} render={({ field }) => (
                  <Switch checked={field.value} onCheckedChange={field.onChange} aria-label={label} />
                )} />
                <div className="min-w-0 flex-1">
                  <p className="text-sm font-medium">{label}</p>
                  <p className="text-xs text-muted-foreground">{t(`${K}.form.${k}Hint`)}</p>
                  {errors[k]?.value?.message && on && (
                    <p role="alert" className="mt-1 text-xs font-medium text-destructive">{message(errors[k]?.value?.message)}</p>
                  )}
                </div>
                <Input
                  type="number"
                  min={0}
                  step="any"
                  disabled={!on}
                  aria-label={`${label}: ${t(`${K}.form.amount`)}`}
                  aria-invalid={errors[k]?.value ? true : undefined}
                  className="w-20"
                  {...register(`${k}.value`, { valueAsNumber: true })}
                />
                <Controller control={control} name={`${k}.unit`} render={({ field }) => (
                  <Choice
                    className="w-28"
                    disabled={!on}
                    aria-label={`${label}: ${t(`${K}.form.unit`)}`}
                    value={field.value}
                    onChange={field.onChange}
                    options={(["minutes", "hours", "days"] as const).map((u) => ({ value: u, label: t(`${K}.units.${u}`) }))}
                  />
                )} />
              </li>
            );
          })}
        </ul>
        {errors.first?.on?.message && <p role="alert" className="text-xs font-medium text-destructive">{message(errors.first.on.message)}</p>}
        <div className="flex items-end gap-2">
          <Field label={t(`${K}.form.warn`)} hint={t(`${K}.form.warnHint`)} error={message(errors.warn?.value?.message)}>
            <Input type="number" min={0} step="any" className="w-24" {...register("warn.value", { valueAsNumber: true })} />
          </Field>
          <Controller control={control} name="warn.unit" render={({ field }) => (
            <Choice
              className="mb-[1.375rem] w-28"
              aria-label={`${t(`${K}.form.warn`)}: ${t(`${K}.form.unit`)}`}
              value={field.value}
              onChange={field.onChange}
              options={(["minutes", "hours", "days"] as const).map((u) => ({ value: u, label: t(`${K}.units.${u}`) }))}
            />
          )} />
        </div>
      </Section>

      <Section title={t(`${K}.form.hours`)} hint={t(`${K}.form.hoursHint`)}>
        <div className="grid grid-cols-2 items-start gap-4">
          <Field label={t(`${K}.form.timezone`)} error={message(errors.timezone?.message)}>
            <Input list="admin-routing-zones" autoComplete="off" {...register("timezone")} />
          </Field>
          <datalist id="admin-routing-zones">
            {zones.map((z) => <option key={z} value={z} />)}
          </datalist>
          <div className="flex items-center gap-3 pt-7">
            <Controller control={control} name="alwaysOpen" render={({ field }) => (
              <Switch id="admin-routing-always" checked={field.value} onCheckedChange={field.onChange} aria-describedby="admin-routing-always-hint" />
            )} />
            <div>
              <label htmlFor="admin-routing-always" className="text-sm font-medium">{t(`${K}.alwaysOpen`)}</label>
              <p id="admin-routing-always-hint" className="text-xs text-muted-foreground">{t(`${K}.form.alwaysOpenHint`)}</p>
            </div>
          </div>
        </div>
        {!alwaysOpen && (
          <>
            <Controller control={control} name="week" render={({ field }) => (
              <WeekEditor week={field.value} onChange={field.onChange} errors={weekErrors} />
            )} />
            {errors.week?.message && <p role="alert" className="text-xs font-medium text-destructive">{message(errors.week.message)}</p>}
          </>
        )}
      </Section>

      <Section title={t(`${K}.form.holidays`)} hint={t(`${K}.form.holidaysHint`)}>
        <Controller control={control} name="holidays" render={({ field }) => <HolidaysEditor holidays={field.value} onChange={field.onChange} />} />
      </Section>

      <div className="sticky bottom-0 flex justify-end gap-2 border-t border-border bg-background py-3">
        <Button type="button" variant="outline" onClick={() => navigate("/admin/sla")}>{t("admin-routing.common.cancel")}</Button>
        <Button type="submit" disabled={formState.isSubmitting}>
          {formState.isSubmitting ? t("admin-routing.common.saving") : t("admin-routing.common.save")}
        </Button>
      </div>
    </form>
    <aside className="sticky top-0 hidden w-72 shrink-0 xl:block" aria-label={t(`${K}.form.summary`)}>
      <PolicySummary values={watch()} teams={teams} editing={policy != null} />
    </aside>
    </div>
  );
}
