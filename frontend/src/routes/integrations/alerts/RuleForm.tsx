// admin/alerts/new and admin/alerts/:id: an alert rule — what to measure, over which scope, the
// threshold and window, severity and cooldown.
import { zodResolver } from "@hookform/resolvers/zod";
import { ArrowLeft, Users } from "lucide-react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useMutation } from "urql";
import type { AdminAlertRulesQuery, AdminSaveAlertRuleMutation, AdminSaveAlertRuleMutationVariables } from "@/api/graphql.generated";
import { ADMIN_SAVE_ALERT_RULE } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Switch } from "@/components/ui/switch";
import { PLATFORMS } from "../webhooks/endpoint";
import { SelectField, serverProblem } from "../common";
import { EVERYTHING, KINDS, KIND_NAMES, SEVERITIES, ruleSchema, toInput, toValues, type Rule, type RuleValues, type Scope } from "./rule";

export function RuleForm({ rule, data, onSaved }: { rule?: Rule; data: AdminAlertRulesQuery; onSaved: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [{ fetching, error }, save] = useMutation<AdminSaveAlertRuleMutation, AdminSaveAlertRuleMutationVariables>(ADMIN_SAVE_ALERT_RULE);
  const form = useForm<RuleValues>({ resolver: zodResolver(ruleSchema), defaultValues: toValues(rule) });
  const { errors } = form.formState;
  const msg = (m: string | undefined) => (m ? t(`integrations.alerts.errors.${m}`) : undefined);
  const kind = form.watch("kind");
  const scope = form.watch("scope");
  const spec = KINDS[kind];

  const targets: { value: string; label: string }[] =
    scope === "platform"
      ? PLATFORMS.map((p) => ({ value: p.toLowerCase(), label: t(`integrations.platforms.${p}`) }))
      : scope === "channel"
        ? data.channels.map((c) => ({ value: c.id, label: c.name }))
        : scope === "team"
          ? data.teams.map((x) => ({ value: x.id, label: x.name }))
          : scope === "agent"
            ? data.users.map((u) => ({ value: u.id, label: u.name }))
            : [];

  const submit = form.handleSubmit(async (values) => {
    const r = await save({ input: toInput(values, rule?.id ?? null) });
    if (r.data) {
      onSaved();
      void navigate("/admin/alerts");
    }
  });
  const select = (name: "kind" | "scope" | "scopeValue" | "condition" | "severity", label: string, items: { value: string; label: string }[], onPicked?: (v: string) => void, hint?: string, className?: string) => (
    <Controller
      control={form.control}
      name={name}
      render={({ field }) => (
        <SelectField
          label={label}
          hint={hint}
          className={className}
          error={msg(errors[name]?.message)}
          value={field.value}
          placeholder={t("integrations.alerts.pick")}
          items={items}
          onChange={(v) => {
            field.onChange(v);
            onPicked?.(v);
          }}
        />
      )}
    />
  );

  const back = (
    <Button variant="ghost" asChild>
      <Link to="/admin/alerts">
        <ArrowLeft aria-hidden /> {t("integrations.alerts.back")}
      </Link>
    </Button>
  );
  return (
    <AdminFrame title={rule ? t("integrations.alerts.editTitle") : t("integrations.alerts.newTitle")} description={rule?.name ?? t("integrations.alerts.newDescription")} actions={back}>
      <form onSubmit={submit} noValidate className="max-w-3xl space-y-5">
        <Card>
          <CardHeader title={t("integrations.alerts.what")} />
          <CardBody className="grid grid-cols-2 gap-4">
            <Field label={t("integrations.alerts.name")} error={msg(errors.name?.message)} className="col-span-2">
              <Input autoFocus={!rule} placeholder={t("integrations.alerts.namePlaceholder")} {...form.register("name")} />
            </Field>
            {select(
              "kind",
              t("integrations.alerts.kind"),
              KIND_NAMES.map((k) => ({ value: k, label: t(`integrations.alerts.kinds.${k}.name`) })),
              (k) => {
                const scopes = KINDS[k as keyof typeof KINDS].scopes as readonly string[];
                if (form.getValues("scope") !== EVERYTHING && !scopes.includes(form.getValues("scope"))) {
                  form.setValue("scope", EVERYTHING);
                  form.setValue("scopeValue", "");
                }
              },
              t(`integrations.alerts.kinds.${kind}.help`),
              "col-span-2",
            )}
            {select(
                "scope",
                t("integrations.alerts.scope"),
                [{ value: EVERYTHING, label: t("integrations.alerts.scopes.all") }, ...(spec.scopes as readonly Scope[]).map((s) => ({ value: s, label: t(`integrations.alerts.scopes.${s}`) }))],
                () => form.setValue("scopeValue", ""),
              )}
            {scope !== EVERYTHING && select("scopeValue", t(`integrations.alerts.scopeTarget.${scope}`), targets)}
          </CardBody>
        </Card>
        <Card>
          <CardHeader title={t("integrations.alerts.when")} description={t("integrations.alerts.whenHint")} />
          <CardBody className="grid grid-cols-3 gap-4">
            {select("condition", t("integrations.alerts.condition"), [
              { value: "usual", label: t("integrations.alerts.usual", { condition: t(`integrations.alerts.conditions.${spec.condition}`) }) },
              { value: "above", label: t("integrations.alerts.conditions.above") },
              { value: "below", label: t("integrations.alerts.conditions.below") },
            ])}
            <Field label={t("integrations.alerts.threshold")} hint={t(`integrations.alerts.units.${spec.unit}`)} error={msg(errors.threshold?.message)}>
              <Input type="number" step="any" inputMode="decimal" {...form.register("threshold")} />
            </Field>
            <Field label={t("integrations.alerts.windowMinutes")} error={msg(errors.windowMinutes?.message)}>
              <Input type="number" min={1} {...form.register("windowMinutes")} />
            </Field>
            {kind === "volume_spike" && (
              <Field label={t("integrations.alerts.weeks")} hint={t("integrations.alerts.weeksHint")} error={msg(errors.weeks?.message)}>
                <Input type="number" min={1} max={12} {...form.register("weeks")} />
              </Field>
            )}
          </CardBody>
        </Card>
        <Card>
          <CardHeader title={t("integrations.alerts.how")} />
          <CardBody className="space-y-4">
            <div className="grid grid-cols-3 gap-4">
              {select("severity", t("integrations.alerts.severity"), SEVERITIES.map((s) => ({ value: s, label: t(`integrations.alerts.severities.${s}`) })))}
              <Field label={t("integrations.alerts.cooldownMinutes")} hint={t("integrations.alerts.cooldownHint")} error={msg(errors.cooldownMinutes?.message)}>
                <Input type="number" min={0} {...form.register("cooldownMinutes")} />
              </Field>
              <Controller
                control={form.control}
                name="enabled"
                render={({ field }) => (
                  <div className="space-y-1.5">
                    <label htmlFor="rule-enabled" className="block text-sm font-medium">{t("integrations.alerts.enabled")}</label>
                    <Switch id="rule-enabled" checked={field.value} onCheckedChange={field.onChange} />
                  </div>
                )}
              />
            </div>
            <p className="flex items-start gap-2 rounded-lg bg-muted/60 px-3 py-2 text-xs text-muted-foreground">
              <Users className="mt-0.5 size-4 shrink-0" aria-hidden />
              {t("integrations.alerts.recipients")}
            </p>
          </CardBody>
        </Card>
        {error && (
          <p role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {serverProblem(error, t)}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="outline" onClick={() => void navigate("/admin/alerts")}>
            {t("integrations.common.cancel")}
          </Button>
          <Button type="submit" disabled={fetching}>
            {fetching ? t("integrations.common.saving") : rule ? t("integrations.common.save") : t("integrations.alerts.create")}
          </Button>
        </div>
      </form>
    </AdminFrame>
  );
}
