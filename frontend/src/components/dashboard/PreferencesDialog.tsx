// Notification preferences (a dialog from the bell): what to be told about, e-mail and Slack, the
// time zone and quiet hours. Loaded only when opened (React Hook Form and Zod stay out of the
// first load).
import { zodResolver } from "@hookform/resolvers/zod";
import { Loader2 } from "lucide-react";
import { useEffect, useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import { NOTIFICATION_PREFERENCES, SAVE_NOTIFICATION_PREFERENCES } from "@/api/ops/dashboard";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/misc";
import { Switch } from "@/components/ui/switch";
import { useServices } from "@/services";
import { KINDS, prefsSchema, toForm, toInput, type Preferences, type PrefsForm } from "./prefs";

export default function PreferencesDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  const { client } = useServices();
  const [loaded, setLoaded] = useState<{ prefs: Preferences | null; error: unknown }>({ prefs: null, error: null });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    void client
      .query<{ notificationPreferences: Preferences }>(NOTIFICATION_PREFERENCES, {}, { requestPolicy: "network-only" })
      .toPromise()
      .then((r) => current && setLoaded({ prefs: r.data?.notificationPreferences ?? null, error: r.error ?? null }));
    return () => {
      current = false;
    };
  }, [client, attempt]);
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent title={t("dashboard.prefs.title")} description={t("dashboard.prefs.description")} closeLabel={t("dashboard.prefs.close")}>
        {loaded.error ? (
          <ErrorState error={loaded.error} onRetry={() => setAttempt((n) => n + 1)} compact />
        ) : !loaded.prefs ? (
          <div className="space-y-3" aria-busy>
            <Skeleton className="h-20 w-full" />
            <Skeleton className="h-9 w-full" />
            <Skeleton className="h-9 w-full" />
          </div>
        ) : (
          <PrefsFormView prefs={loaded.prefs} onDone={() => onOpenChange(false)} />
        )}
      </DialogContent>
    </Dialog>
  );
}

function PrefsFormView({ prefs, onDone }: { prefs: Preferences; onDone: () => void }) {
  const { t } = useTranslation();
  const { client } = useServices();
  const [serverError, setServerError] = useState<string | null>(null);
  const { control, register, handleSubmit, watch, setError, formState } = useForm<PrefsForm>({ resolver: zodResolver(prefsSchema), defaultValues: toForm(prefs) });
  const slack = watch("slack");
  const quiet = watch("quiet");
  const err = (name: keyof PrefsForm) => {
    const message = formState.errors[name]?.message;
    return message ? t(`dashboard.prefs.errors.${message}`, { defaultValue: message }) : undefined;
  };
  const submit = handleSubmit(async (values) => {
    setServerError(null);
    const r = await client.mutation(SAVE_NOTIFICATION_PREFERENCES, { input: toInput(values) }).toPromise();
    if (r.error) {
      const e = explain(r.error, t);
      const field = (r.error.graphQLErrors[0]?.extensions?.field as string | undefined) ?? "";
      const known: Record<string, keyof PrefsForm> = { slackWebhookUrl: "slackWebhookUrl", timezone: "timezone", quietStart: "quietStart" };
      if (known[field]) setError(known[field], { message: e.detail ?? e.message });
      else setServerError(`${e.message} (${e.code})`);
      return;
    }
    onDone();
  });
  return (
    <form onSubmit={(e) => void submit(e)} className="space-y-5" noValidate>
      <fieldset className="space-y-2">
        <legend className="mb-2 text-sm font-medium">{t("dashboard.prefs.kinds")}</legend>
        <Controller
          control={control}
          name="notify"
          render={({ field }) => (
            <div className="grid grid-cols-2 gap-2">
              {KINDS.map((kind) => (
                <label key={kind} className="flex items-center gap-2 rounded-md border border-border px-3 py-2 text-sm hover:bg-muted/50">
                  <Checkbox
                    checked={field.value.includes(kind)}
                    onCheckedChange={(on) => field.onChange(on ? [...field.value, kind] : field.value.filter((k) => k !== kind))}
                  />
                  {t(`dashboard.notifications.kinds.${kind}`)}
                </label>
              ))}
            </div>
          )}
        />
      </fieldset>
      <fieldset className="space-y-2">
        <legend className="mb-2 text-sm font-medium">{t("dashboard.prefs.channels")}</legend>
        <div className="flex gap-2">
          {(["email", "slack"] as const).map((name) => (
            <Controller
              key={name}
              control={control}
              name={name}
              render={({ field }) => (
                <label className="flex flex-1 items-center gap-2 rounded-md border border-border px-3 py-2 text-sm hover:bg-muted/50">
                  <Checkbox checked={field.value} onCheckedChange={(on) => field.onChange(on === true)} />
                  {t(`dashboard.prefs.${name}`)}
                </label>
              )}
            />
          ))}
        </div>
        {slack && (
          <Field label={t("dashboard.prefs.slackUrl")} error={err("slackWebhookUrl")}>
            <Input type="url" placeholder={t("dashboard.prefs.slackUrlHint")} {...register("slackWebhookUrl")} />
          </Field>
        )}
      </fieldset>
      <Field label={t("dashboard.prefs.timezone")} error={err("timezone")}>
        <Input {...register("timezone")} autoComplete="off" />
      </Field>
      <div className="space-y-2">
        <div className="flex items-center justify-between gap-3">
          <div>
            <label htmlFor="prefs-quiet" className="text-sm font-medium">{t("dashboard.prefs.quiet")}</label>
            <p className="text-xs text-muted-foreground">{t("dashboard.prefs.quietHint")}</p>
          </div>
          <Controller control={control} name="quiet" render={({ field }) => <Switch id="prefs-quiet" checked={field.value} onCheckedChange={field.onChange} />} />
        </div>
        {quiet && (
          <div className="grid grid-cols-2 gap-3">
            <Field label={t("dashboard.prefs.quietStart")} error={err("quietStart")}>
              <Input type="time" {...register("quietStart")} />
            </Field>
            <Field label={t("dashboard.prefs.quietEnd")}>
              <Input type="time" {...register("quietEnd")} />
            </Field>
          </div>
        )}
      </div>
      {serverError && <p role="alert" className="text-sm font-medium text-destructive">{serverError}</p>}
      <div className="flex justify-end gap-2 border-t border-border pt-4">
        <Button type="button" variant="ghost" onClick={onDone}>{t("dashboard.prefs.cancel")}</Button>
        <Button type="submit" disabled={formState.isSubmitting}>
          {formState.isSubmitting && <Loader2 className="animate-spin" aria-hidden />}
          {t("dashboard.prefs.save")}
        </Button>
      </div>
    </form>
  );
}
