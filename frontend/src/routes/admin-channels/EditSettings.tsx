// Change a channel (updateChannel): name, settings, and secrets replaced only where typed.
import { zodResolver } from "@hookform/resolvers/zod";
import { CheckCircle2 } from "lucide-react";
import { useMemo, useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { AdminUpdateChannelMutation } from "@/api/graphql.generated";
import { ADMIN_UPDATE_CHANNEL } from "@/api/ops/admin-channels";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { ChannelFields } from "./ChannelFields";
import { channelSchema, initialValues, specOf, toInput, type FormValues } from "./platforms";
import { ServerProblems } from "./ServerProblems";
import type { AdminChannel } from "./types";

export function EditSettings({ channel }: { channel: AdminChannel }) {
  const { t } = useTranslation();
  const spec = specOf(channel.platform);
  const schema = useMemo(() => channelSchema(spec, channel.secretsSet), [spec, channel.secretsSet]);
  const form = useForm<FormValues>({ resolver: zodResolver(schema), defaultValues: initialValues(spec, channel) });
  const [result, update] = useMutation<AdminUpdateChannelMutation>(ADMIN_UPDATE_CHANNEL);
  const [saved, setSaved] = useState(false);
  // A fresh form (secret fields folded back to "Set") after each save.
  const [generation, setGeneration] = useState(0);

  const submit = form.handleSubmit(async (values) => {
    setSaved(false);
    const { name, config, secrets } = toInput(spec, values, "edit");
    const r = await update({ input: { id: channel.id, name, config, ...(Object.keys(secrets).length ? { secrets } : {}) } });
    const updated = r.data?.updateChannel;
    if (!updated) return;
    form.reset(initialValues(spec, updated));
    setGeneration((g) => g + 1);
    setSaved(true);
  });

  return (
    <Card>
      <CardHeader title={t("admin-channels.detail.settings")} description={t("admin-channels.detail.settingsHelp")} />
      <form onSubmit={(e) => void submit(e)} noValidate>
        <CardBody className="space-y-5">
          <ChannelFields key={generation} spec={spec} form={form} mode="edit" secretsSet={channel.secretsSet} />
          <ServerProblems error={result.error} />
        </CardBody>
        <div className="flex items-center justify-end gap-3 border-t border-border bg-muted/30 px-4 py-3">
          {saved && !form.formState.isDirty && (
            <span role="status" className="flex items-center gap-1.5 text-sm text-success-strong">
              <CheckCircle2 className="size-4" aria-hidden /> {t("admin-channels.form.saved")}
            </span>
          )}
          <Button type="button" variant="outline" disabled={!form.formState.isDirty || result.fetching} onClick={() => {
            form.reset();
            setGeneration((g) => g + 1);
          }}>
            {t("admin-channels.form.cancel")}
          </Button>
          <Button type="submit" disabled={result.fetching}>
            {result.fetching ? t("admin-channels.form.saving") : t("admin-channels.form.save")}
          </Button>
        </div>
      </form>
    </Card>
  );
}
