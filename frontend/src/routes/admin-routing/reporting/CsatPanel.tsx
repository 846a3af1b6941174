// A channel's satisfaction survey: on or off, the question, and its timing.
import { zodResolver } from "@hookform/resolvers/zod";
import { MessageSquareHeart, Star } from "lucide-react";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import type { AdminCsatSettingsQuery, AdminReportingSettingsQuery } from "@/api/graphql.generated";
import { ADMIN_CSAT_SETTINGS, ADMIN_SAVE_CSAT_SETTINGS } from "@/api/ops/admin-routing";
import { ErrorState } from "@/components/ErrorState";
import { ListScaffold } from "@/components/ListScaffold";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader, EmptyState } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/misc";
import { Switch } from "@/components/ui/switch";
import { Choice } from "../Choice";
import { useAdminData, useMutate } from "../useAdminData";
import { csatSchema, type CsatForm } from "./schemas";

const K = "admin-routing.reporting.csat";
type Channel = AdminReportingSettingsQuery["channels"][number];
type Settings = AdminCsatSettingsQuery["csatSettings"];

export function CsatPanel({ channels, onSaved }: { channels: Channel[]; onSaved: () => void }) {
  const { t } = useTranslation();
  const [channel, setChannel] = useState(channels[0]?.id ?? "");
  if (channels.length === 0) return <EmptyState icon={<MessageSquareHeart aria-hidden />} title={t(`${K}.title`)} description={t(`${K}.noChannels`)} />;
  return (
    <Card>
      <CardHeader
        title={t(`${K}.title`)}
        description={t(`${K}.text`)}
        actions={
          <div className="w-56">
            <Choice aria-label={t(`${K}.channel`)} value={channel} onChange={setChannel} options={channels.map((c) => ({ value: c.id, label: c.name }))} />
          </div>
        }
      />
      <CardBody>
        <ChannelSettings key={channel} channel={channel} onSaved={onSaved} />
      </CardBody>
    </Card>
  );
}

function ChannelSettings({ channel, onSaved }: { channel: string; onSaved: () => void }) {
  const state = useAdminData<AdminCsatSettingsQuery>(ADMIN_CSAT_SETTINGS, { channel });
  return (
    <ListScaffold state={state} skeleton={<Skeleton className="h-56 w-full" />}>
      {(data) => <SettingsForm settings={data.csatSettings} onSaved={onSaved} />}
    </ListScaffold>
  );
}

function SettingsForm({ settings, onSaved }: { settings: Settings; onSaved: () => void }) {
  const { t } = useTranslation();
  const mutate = useMutate();
  const [failure, setFailure] = useState<unknown>(null);
  const { register, control, handleSubmit, formState, reset, watch } = useForm<CsatForm>({
    resolver: zodResolver(csatSchema),
    defaultValues: {
      enabled: settings.enabled,
      question: settings.question,
      delayMinutes: settings.delaySeconds / 60,
      windowHours: settings.windowSeconds / 3600,
      commentMinutes: settings.commentSeconds / 60,
    },
  });
  const e = formState.errors;
  const message = (m?: string) => (m ? t(`${K}.errors.${m}`) : undefined);
  const submit = handleSubmit(async (v) => {
    setFailure(null);
    try {
      await mutate(ADMIN_SAVE_CSAT_SETTINGS, {
        channel: settings.channelId,
        enabled: v.enabled,
        delay: Math.round(v.delayMinutes * 60),
        question: v.question.trim(),
        window: Math.round(v.windowHours * 3600),
        comment: Math.round(v.commentMinutes * 60),
      });
      reset(v);
      onSaved();
    } catch (err) {
      setFailure(err);
    }
  });
  return (
    <form onSubmit={(ev) => void submit(ev)} noValidate className="relative space-y-5">
      {failure != null && <div className="rounded-lg border border-red-200 bg-red-50/50"><ErrorState error={failure} compact /></div>}
      <div className="flex items-center gap-3 rounded-lg border border-border bg-muted/30 px-4 py-3">
        <Controller control={control} name="enabled" render={({ field }) => (
          <Switch id="csat-enabled" checked={field.value} onCheckedChange={field.onChange} aria-describedby="csat-enabled-hint" />
        )} />
        <div className="flex-1">
          <label htmlFor="csat-enabled" className="text-sm font-medium">{t(`${K}.enabled`)}</label>
          <p id="csat-enabled-hint" className="text-xs text-muted-foreground">{t(`${K}.enabledHint`)}</p>
        </div>
        <span className="flex gap-0.5 text-amber-500" aria-hidden>
          {[0, 1, 2, 3, 4].map((i) => <Star key={i} className="size-4 fill-current" />)}
        </span>
      </div>
      <Field label={t(`${K}.question`)} error={message(e.question?.message)}>
        <Textarea rows={3} disabled={!watch("enabled")} {...register("question")} />
      </Field>
      <div className="grid grid-cols-3 gap-4">
        <Field label={t(`${K}.delay`)} error={message(e.delayMinutes?.message)}>
          <Input type="number" min={0} step="any" {...register("delayMinutes", { valueAsNumber: true })} />
        </Field>
        <Field label={t(`${K}.window`)} error={message(e.windowHours?.message)}>
          <Input type="number" min={0} step="any" {...register("windowHours", { valueAsNumber: true })} />
        </Field>
        <Field label={t(`${K}.comment`)} error={message(e.commentMinutes?.message)}>
          <Input type="number" min={0} step="any" {...register("commentMinutes", { valueAsNumber: true })} />
        </Field>
      </div>
      <div className="flex justify-end">
        <Button type="submit" disabled={formState.isSubmitting || !formState.isDirty}>
          {formState.isSubmitting ? t("admin-routing.common.saving") : t("admin-routing.common.save")}
        </Button>
      </div>
    </form>
  );
}
