// Create or edit a routing rule: the conditions a new conversation must match, and the team.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMemo, useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import type { AdminRoutingRulesQuery } from "@/api/graphql.generated";
import { ErrorState } from "@/components/ErrorState";
import { platformLabel } from "@/components/PlatformIcon";
import { Button } from "@/components/ui/button";
import { DialogContent } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { ANY, Choice } from "../Choice";
import { NewTeam } from "./NewTeam";
import { ruleForm, ruleSchema, type Rule, type RuleForm } from "./rule";

const K = "admin-routing.routing";
const PLATFORMS = ["WHATSAPP", "MESSENGER", "INSTAGRAM", "TELEGRAM", "DISCORD", "SLACK", "WEBCHAT", "SMS", "EMAIL", "LINE", "VIBER", "WECHAT"];

export function RuleDialog({ rule, data, onSave }: { rule: Rule | null; data: AdminRoutingRulesQuery; onSave: (values: RuleForm) => Promise<void> }) {
  const { t } = useTranslation();
  const [failure, setFailure] = useState<unknown>(null);
  const [madeTeams, setMadeTeams] = useState<{ id: string; name: string }[]>([]);
  const teams = [...data.teams, ...madeTeams];
  const schema = useMemo(() => ruleSchema(data.channels), [data.channels]);
  const { control, register, handleSubmit, watch, formState, setValue } = useForm<RuleForm>({ resolver: zodResolver(schema), defaultValues: ruleForm(rule) });
  const platform = watch("platform");
  const message = (m?: string) => (m ? t(`${K}.errors.${m}`) : undefined);
  const any = { value: ANY, label: t("admin-routing.common.any") };
  const channels = data.channels.filter((c) => platform === ANY || c.platform === platform);
  const submit = handleSubmit(async (values) => {
    setFailure(null);
    try {
      await onSave(values);
    } catch (e) {
      setFailure(e);
    }
  });
  return (
    <DialogContent title={rule ? t(`${K}.dialogEdit`) : t(`${K}.dialogNew`)} description={t(`${K}.dialogText`)} closeLabel={t("admin-routing.common.close")}>
      <form onSubmit={(e) => void submit(e)} noValidate className="relative space-y-4">
        {failure != null && (
          <div className="rounded-lg border border-red-200 bg-red-50/50">
            <ErrorState error={failure} compact />
          </div>
        )}
        <div className="grid grid-cols-2 gap-3">
          <Controller control={control} name="platform" render={({ field }) => (
            <Field label={t(`${K}.platform`)} error={message(formState.errors.platform?.message)}>
              <Choice value={field.value} onChange={field.onChange} options={[any, ...PLATFORMS.map((p) => ({ value: p, label: platformLabel(p) }))]} />
            </Field>
          )} />
          <Controller control={control} name="channelId" render={({ field }) => (
            <Field label={t(`${K}.channel`)}>
              <Choice value={field.value} onChange={field.onChange} options={[any, ...channels.map((c) => ({ value: c.id, label: c.name }))]} />
            </Field>
          )} />
          <Field label={t(`${K}.language`)} hint={t(`${K}.languageHint`)} error={message(formState.errors.language?.message)}>
            <Input autoComplete="off" placeholder="pt-BR" {...register("language")} />
          </Field>
          <Field label={t(`${K}.topic`)} hint={t(`${K}.topicHint`)} error={message(formState.errors.topic?.message)}>
            <Input autoComplete="off" placeholder="billing" {...register("topic")} />
          </Field>
        </div>
        <Controller control={control} name="teamId" render={({ field }) => (
          <Field label={t(`${K}.team`)} hint={teams.length === 0 ? t(`${K}.noTeams`) : undefined} error={message(formState.errors.teamId?.message)}>
            <Choice value={field.value} onChange={field.onChange} options={[{ value: ANY, label: "—" }, ...teams.map((x) => ({ value: x.id, label: x.name }))]} />
          </Field>
        )} />
        <NewTeam
          onCreated={(team) => {
            setMadeTeams((made) => [...made, team]);
            setValue("teamId", team.id, { shouldValidate: true, shouldDirty: true });
          }}
        />
        <div className="flex justify-end gap-2 pt-1">
          <Button type="submit" disabled={formState.isSubmitting}>
            {formState.isSubmitting ? t("admin-routing.common.saving") : t("admin-routing.common.save")}
          </Button>
        </div>
      </form>
    </DialogContent>
  );
}
