// Create or change an outgoing webhook endpoint: where, which events, narrowed to platforms or
// channels, enabled, and the admin's private-network exception. A new endpoint's secret is shown once.
import { zodResolver } from "@hookform/resolvers/zod";
import { ArrowLeft } from "lucide-react";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useMutation } from "urql";
import type { AdminSaveWebhookEndpointMutation, AdminSaveWebhookEndpointMutationVariables, AdminWebhookEndpointsQuery } from "@/api/graphql.generated";
import { ADMIN_SAVE_WEBHOOK_ENDPOINT } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Switch } from "@/components/ui/switch";
import { CheckboxGroup, serverProblem } from "../common";
import { EVENT_TYPES, PLATFORMS, endpointSchema, toInput, toValues, type Endpoint, type EndpointValues } from "./endpoint";
import { SecretDialog } from "./SecretDialog";

export function EndpointForm({ endpoint, channels, onSaved }: { endpoint?: Endpoint; channels: AdminWebhookEndpointsQuery["channels"]; onSaved: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [secret, setSecret] = useState<string | null>(null);
  const [{ fetching, error }, save] = useMutation<AdminSaveWebhookEndpointMutation, AdminSaveWebhookEndpointMutationVariables>(ADMIN_SAVE_WEBHOOK_ENDPOINT);
  const form = useForm<EndpointValues>({ resolver: zodResolver(endpointSchema), defaultValues: toValues(endpoint) });
  const { errors } = form.formState;
  const msg = (m: string | undefined) => (m ? t(`integrations.webhooks.errors.${m}`) : undefined);
  const allEvents = form.watch("allEvents");

  const submit = form.handleSubmit(async (values) => {
    const result = await save({ input: toInput(values), id: endpoint?.id ?? null });
    if (!result.data) return;
    onSaved();
    if (result.data.saveWebhookEndpoint.secret) setSecret(result.data.saveWebhookEndpoint.secret);
    else void navigate("/admin/webhooks");
  });

  const back = (
    <Button variant="ghost" asChild>
      <Link to="/admin/webhooks">
        <ArrowLeft aria-hidden /> {t("integrations.webhooks.back")}
      </Link>
    </Button>
  );
  return (
    <AdminFrame title={endpoint ? t("integrations.webhooks.editTitle") : t("integrations.webhooks.newTitle")} description={endpoint?.url ?? t("integrations.webhooks.newDescription")} actions={back}>
      <form onSubmit={submit} noValidate className="max-w-3xl space-y-5">
        <Card>
          <CardHeader title={t("integrations.webhooks.destination")} />
          <CardBody className="space-y-4">
            <Field label={t("integrations.webhooks.url")} hint={t("integrations.webhooks.urlHint")} error={msg(errors.url?.message)}>
              <Input type="url" autoFocus={!endpoint} placeholder="https://example.com/pytake" {...form.register("url")} />
            </Field>
            <Field label={t("integrations.webhooks.descriptionLabel")} error={msg(errors.description?.message)}>
              <Input {...form.register("description")} placeholder={t("integrations.webhooks.descriptionPlaceholder")} />
            </Field>
          </CardBody>
        </Card>
        <Card>
          <CardHeader
            title={t("integrations.webhooks.events")}
            description={t("integrations.webhooks.eventsHint")}
            actions={
              <Controller
                control={form.control}
                name="allEvents"
                render={({ field }) => (
                  <label className="flex items-center gap-2 text-sm">
                    <Switch checked={field.value} onCheckedChange={field.onChange} aria-label={t("integrations.webhooks.allEvents")} />
                    {t("integrations.webhooks.allEvents")}
                  </label>
                )}
              />
            }
          />
          {!allEvents && (
            <CardBody>
              <Controller
                control={form.control}
                name="events"
                render={({ field }) => (
                  <CheckboxGroup idPrefix="event" mono items={EVENT_TYPES.map((e) => ({ value: e, label: e }))} value={field.value} onChange={field.onChange} />
                )}
              />
              {errors.events && (
                <p role="alert" className="mt-2 text-xs font-medium text-destructive">
                  {msg(errors.events.message)}
                </p>
              )}
            </CardBody>
          )}
        </Card>
        <Card>
          <CardHeader title={t("integrations.webhooks.narrow")} description={t("integrations.webhooks.narrowHint")} />
          <CardBody className="space-y-4">
            <fieldset>
              <legend className="mb-2 text-sm font-medium">{t("integrations.webhooks.platforms")}</legend>
              <Controller
                control={form.control}
                name="platforms"
                render={({ field }) => (
                  <CheckboxGroup idPrefix="platform" columns={4} items={PLATFORMS.map((p) => ({ value: p, label: t(`integrations.platforms.${p}`) }))} value={field.value} onChange={field.onChange} />
                )}
              />
            </fieldset>
            {channels.length > 0 && (
              <fieldset>
                <legend className="mb-2 text-sm font-medium">{t("integrations.webhooks.channels")}</legend>
                <Controller
                  control={form.control}
                  name="channelIds"
                  render={({ field }) => (
                    <CheckboxGroup idPrefix="channel" columns={3} items={channels.map((c) => ({ value: c.id, label: c.name }))} value={field.value} onChange={field.onChange} />
                  )}
                />
              </fieldset>
            )}
          </CardBody>
        </Card>
        <Card>
          <CardBody className="space-y-4">
            <Controller
              control={form.control}
              name="enabled"
              render={({ field }) => (
                <div className="flex items-start justify-between gap-4">
                  <div>
                    <label htmlFor="endpoint-enabled" className="text-sm font-medium">{t("integrations.webhooks.enabled")}</label>
                    <p className="text-xs text-muted-foreground">{t("integrations.webhooks.enabledHint")}</p>
                  </div>
                  <Switch id="endpoint-enabled" checked={field.value} onCheckedChange={field.onChange} />
                </div>
              )}
            />
            <Controller
              control={form.control}
              name="allowPrivateNetwork"
              render={({ field }) => (
                <div className="flex items-start justify-between gap-4">
                  <div>
                    <label htmlFor="endpoint-private" className="text-sm font-medium">{t("integrations.webhooks.private")}</label>
                    <p className="text-xs text-muted-foreground">{t("integrations.webhooks.privateHint")}</p>
                  </div>
                  <Switch id="endpoint-private" checked={field.value} onCheckedChange={field.onChange} />
                </div>
              )}
            />
          </CardBody>
        </Card>
        {error && (
          <p role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {serverProblem(error, t)}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="outline" onClick={() => void navigate("/admin/webhooks")}>
            {t("integrations.common.cancel")}
          </Button>
          <Button type="submit" disabled={fetching}>
            {fetching ? t("integrations.common.saving") : endpoint ? t("integrations.common.save") : t("integrations.webhooks.create")}
          </Button>
        </div>
      </form>
      <SecretDialog secret={secret} onClose={() => void navigate("/admin/webhooks")} />
    </AdminFrame>
  );
}
