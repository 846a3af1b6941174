// Step 2 of a new channel: the form with exactly the platform's fields; on success, the channel's
// page with its webhook URL and the tokens we made up (shown once).
import { zodResolver } from "@hookform/resolvers/zod";
import { ArrowLeft, ShieldCheck } from "lucide-react";
import { useMemo } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, Navigate, useNavigate, useParams } from "react-router";
import { useMutation } from "urql";
import type { AdminCreateChannelMutation } from "@/api/graphql.generated";
import { ADMIN_CREATE_CHANNEL } from "@/api/ops/admin-channels";
import { AdminFrame } from "@/components/AdminFrame";
import { PlatformIcon, platformLabel } from "@/components/PlatformIcon";
import { Button } from "@/components/ui/button";
import { Card, CardBody } from "@/components/ui/card";
import { ChannelFields } from "./ChannelFields";
import { channelSchema, initialValues, PLATFORMS, toInput, type FormValues, type PlatformSpec } from "./platforms";
import { ServerProblems } from "./ServerProblems";
import { SetupSteps } from "./SetupCard";
import type { CreatedState } from "./types";

export function NewChannel({ onCreated }: { onCreated: () => void }) {
  const { platform = "" } = useParams();
  const spec = PLATFORMS.find((p) => p.platform === platform.toUpperCase());
  if (!spec) return <Navigate to="/admin/channels/new" replace />;
  return <NewChannelForm key={spec.platform} spec={spec} onCreated={onCreated} />;
}

function NewChannelForm({ spec, onCreated }: { spec: PlatformSpec; onCreated: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const label = platformLabel(spec.platform);
  const schema = useMemo(() => channelSchema(spec), [spec]);
  const form = useForm<FormValues>({ resolver: zodResolver(schema), defaultValues: initialValues(spec) });
  const inbound = form.watch("inbound");
  const [result, create] = useMutation<AdminCreateChannelMutation>(ADMIN_CREATE_CHANNEL);

  const submit = form.handleSubmit(async (values) => {
    const { name, config, secrets, generated } = toInput(spec, values, "create");
    const r = await create({ input: { platform: spec.platform, name, config, secrets } });
    const channel = r.data?.createChannel;
    if (!channel) return;
    onCreated();
    const state: CreatedState = { channel, generated };
    navigate(`/admin/channels/${encodeURIComponent(channel.id)}`, { state });
  });

  return (
    <AdminFrame
      title={t("admin-channels.form.titleNew", { platform: label })}
      description={t("admin-channels.form.subtitleNew", { platform: label })}
      actions={
        <Button asChild variant="ghost">
          <Link to="/admin/channels/new">
            <ArrowLeft aria-hidden /> {t("admin-channels.form.change")}
          </Link>
        </Button>
      }
    >
      <div className="grid grid-cols-1 items-start gap-5 lg:grid-cols-[minmax(0,1fr)_18rem]">
        <form onSubmit={(e) => void submit(e)} noValidate className="min-w-0">
          <Card>
            <div className="flex items-center gap-3 border-b border-border px-5 py-4">
              <PlatformIcon platform={spec.platform} className="size-9 text-xs ring-0" />
              <div>
                <p className="font-medium">{label}</p>
                <p className="text-sm text-muted-foreground">{t(`admin-channels.about.${spec.platform}`)}</p>
              </div>
            </div>
            <CardBody className="space-y-6 p-5">
              <ChannelFields spec={spec} form={form} mode="create" />
              <ServerProblems error={result.error} />
            </CardBody>
            <div className="flex justify-end gap-2 border-t border-border bg-muted/30 px-5 py-3">
              <Button asChild variant="outline">
                <Link to="/admin/channels">{t("admin-channels.form.cancel")}</Link>
              </Button>
              <Button type="submit" disabled={result.fetching}>
                {result.fetching ? t("admin-channels.form.creating") : t("admin-channels.form.create")}
              </Button>
            </div>
          </Card>
        </form>
        <aside className="space-y-3 rounded-xl border border-border bg-muted/30 p-4 lg:sticky lg:top-0">
          <h2 className="text-sm font-semibold">{t("admin-channels.form.next")}</h2>
          <SetupSteps steps={t(`admin-channels.steps.${spec.platform === "EMAIL" ? `EMAIL_${inbound || "mailgun"}` : spec.platform}`, { returnObjects: true }) as string[]} />
          <p className="flex items-start gap-2 border-t border-border pt-3 text-xs text-muted-foreground">
            <ShieldCheck className="mt-0.5 size-3.5 shrink-0" aria-hidden /> {t("admin-channels.form.secretsHelp")}
          </p>
        </aside>
      </div>
    </AdminFrame>
  );
}
