// The channel page's side column: its status, the webhook secret's rotation (and the old secret's
// grace), registering the webhook again, message retention and whether it is enabled.
import { zodResolver } from "@hookform/resolvers/zod";
import { CheckCircle2, Clock, RefreshCw, Send } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import { z } from "zod";
import type {
  AdminEndSecretGraceMutation,
  AdminRegisterWebhookMutation,
  AdminRotateWebhookSecretMutation,
  AdminSetChannelRetentionMutation,
} from "@/api/graphql.generated";
import { ADMIN_END_SECRET_GRACE, ADMIN_REGISTER_WEBHOOK, ADMIN_ROTATE_WEBHOOK_SECRET, ADMIN_SET_CHANNEL_RETENTION } from "@/api/ops/admin-channels";
import { ErrorState } from "@/components/ErrorState";
import { platformLabel } from "@/components/PlatformIcon";
import { AlertDialog, AlertDialogContent, AlertDialogTrigger } from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { useNow } from "@/hooks/useNow";
import { EnabledButton } from "./EnabledSwitch";
import { ago, fullTime } from "./format";
import { HealthBadge } from "./HealthBadge";
import { specOf } from "./platforms";
import { ShownOnce } from "./SetupCard";
import type { AdminChannel } from "./types";

/** Webhooks read a channel's settings through a 5-second cache (resolvers/channels.py). */
const WEBHOOK_CACHE_MS = 5_000;
export const MAX_RETENTION_DAYS = 36_500;

export function StatusCard({ channel }: { channel: AdminChannel }) {
  const { t, i18n } = useTranslation();
  const now = useNow(30_000);
  const lng = i18n.language;
  const hint = { OK: "okHint", WAITING: "waitingHint", ERROR: null, DISABLED: "disabledHint" }[channel.health];
  return (
    <Card>
      <CardHeader title={t("admin-channels.detail.connection")} />
      <CardBody>
        <dl className="space-y-3 text-sm">
          <div>
            <dt className="text-xs font-medium text-muted-foreground">{t("admin-channels.detail.status")}</dt>
            <dd className="mt-1">
              <HealthBadge health={channel.health} />
              {channel.health === "ERROR" && channel.lastErrorAt && (
                <p className="mt-1 text-xs text-red-700" title={fullTime(channel.lastErrorAt, lng)}>
                  {t("admin-channels.health.failingSince", { when: fullTime(channel.lastErrorAt, lng) })}
                </p>
              )}
              {hint && <p className="mt-1 text-xs text-muted-foreground">{t(`admin-channels.health.${hint}`)}</p>}
            </dd>
          </div>
          <div>
            <dt className="text-xs font-medium text-muted-foreground">{t("admin-channels.detail.lastWebhook")}</dt>
            <dd className="mt-0.5" title={fullTime(channel.lastWebhookAt, lng)}>
              {ago(channel.lastWebhookAt, now, lng) ?? t("admin-channels.table.never")}
            </dd>
          </div>
          {channel.lastError && (
            <div>
              <dt className="text-xs font-medium text-muted-foreground">{t("admin-channels.detail.lastError")}</dt>
              <dd className="mt-1 break-words rounded-md bg-danger-soft px-2.5 py-2 font-mono text-xs text-danger-strong">{channel.lastError}</dd>
            </div>
          )}
          <div>
            <dt className="text-xs font-medium text-muted-foreground">{t("admin-channels.detail.created")}</dt>
            <dd className="mt-0.5">{fullTime(channel.createdAt, lng)}</dd>
          </div>
        </dl>
      </CardBody>
    </Card>
  );
}

export function RotateCard({ channel }: { channel: AdminChannel }) {
  const { t, i18n } = useTranslation();
  const spec = specOf(channel.platform);
  const platform = platformLabel(channel.platform);
  const [result, rotate] = useMutation<AdminRotateWebhookSecretMutation>(ADMIN_ROTATE_WEBHOOK_SECRET);
  const [done, setDone] = useState<{ at: number; secrets: Record<string, string> } | null>(null);
  const effect = t(`admin-channels.rotateEffect.${channel.platform}`);
  // Every generated secret keeps a grace, web chat's visitor token key too (resolvers/channels.py).
  const warning = t("admin-channels.detail.rotateWarning");
  const run = async () => {
    const r = await rotate({ id: channel.id });
    const rotated = r.data?.rotateWebhookSecret;
    if (rotated) setDone({ at: Date.now(), secrets: Object.fromEntries(Object.entries(rotated.secrets).map(([k, v]) => [k, String(v)])) });
  };
  const clock = (ms: number) => new Date(ms).toLocaleTimeString(i18n.language);
  return (
    <Card>
      <CardHeader title={t("admin-channels.detail.secret")} />
      <CardBody className="space-y-3 text-sm">
        {spec.rotates.length === 0 ? (
          <p className="text-muted-foreground">{t("admin-channels.detail.rotateNone", { platform })}</p>
        ) : (
          <>
            <p className="text-muted-foreground">{t("admin-channels.detail.secretHelp", { platform, names: spec.rotates.join(", ") })}</p>
            {effect && <p className="text-xs text-muted-foreground">{effect}</p>}
            <AlertDialog>
              <AlertDialogTrigger asChild>
                <Button variant="outline" disabled={result.fetching}>
                  <RefreshCw className={result.fetching ? "animate-spin" : undefined} aria-hidden />
                  {result.fetching ? t("admin-channels.detail.rotating") : t("admin-channels.detail.rotate")}
                </Button>
              </AlertDialogTrigger>
              <AlertDialogContent
                title={t("admin-channels.detail.rotateTitle")}
                description={`${warning} ${effect}`.trim()}
                cancelLabel={t("admin-channels.disable.cancel")}
                confirmLabel={t("admin-channels.detail.rotateConfirm")}
                destructive={false}
                onConfirm={() => void run()}
              />
            </AlertDialog>
            {result.error && <ErrorState error={result.error} compact />}
            {done && (
              <div className="space-y-3" data-rotated>
                <p className="flex items-center gap-1.5 font-medium text-success-strong" role="status">
                  <CheckCircle2 className="size-4" aria-hidden /> {t("admin-channels.detail.rotated", { when: clock(done.at) })}
                </p>
                {!channel.previousSecretAcceptedUntil && (
                  <p className="text-xs text-muted-foreground">{t("admin-channels.detail.previousWindow", { when: clock(done.at + WEBHOOK_CACHE_MS) })}</p>
                )}
                {channel.platform !== "TELEGRAM" && <ShownOnce channel={channel} secrets={done.secrets} />}
              </div>
            )}
            <SecretGrace channel={channel} />
          </>
        )}
      </CardBody>
    </Card>
  );
}

/** After a rotation: until when the previous secret is still accepted, and ending that now. */
function SecretGrace({ channel }: { channel: AdminChannel }) {
  const { t, i18n } = useTranslation();
  const now = useNow(30_000);
  const [result, end] = useMutation<AdminEndSecretGraceMutation>(ADMIN_END_SECRET_GRACE);
  const [ended, setEnded] = useState(false);
  const until = channel.previousSecretAcceptedUntil;
  const open = until != null && Date.parse(until) > now;
  if (!open)
    return ended ? (
      <p className="text-xs text-muted-foreground" role="status" data-grace="ended">
        {t("admin-channels.detail.graceEnded")}
      </p>
    ) : null;
  const run = async () => {
    const r = await end({ id: channel.id });
    if (r.data) setEnded(true);
  };
  return (
    <div className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-amber-900" data-grace="open">
      <p className="flex items-start gap-1.5 font-medium">
        <Clock className="mt-0.5 size-4 shrink-0" aria-hidden />
        <span>{t("admin-channels.detail.graceUntil", { when: fullTime(until, i18n.language) })}</span>
      </p>
      <p className="text-xs">{t("admin-channels.detail.graceHelp", { platform: platformLabel(channel.platform) })}</p>
      <AlertDialog>
        <AlertDialogTrigger asChild>
          <Button variant="outline" size="sm" disabled={result.fetching}>
            {t("admin-channels.detail.endGrace")}
          </Button>
        </AlertDialogTrigger>
        <AlertDialogContent
          title={t("admin-channels.detail.endGraceTitle")}
          description={t("admin-channels.detail.endGraceText")}
          cancelLabel={t("admin-channels.disable.cancel")}
          confirmLabel={t("admin-channels.detail.endGraceConfirm")}
          onConfirm={() => void run()}
        />
      </AlertDialog>
      {result.error && <ErrorState error={result.error} compact />}
    </div>
  );
}

/** Platforms told our webhook URL by API (Viber's set_webhook, Telegram's setWebhook): ask again. */
export function RegisterCard({ channel, onChanged }: { channel: AdminChannel; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const platform = platformLabel(channel.platform);
  const [result, register] = useMutation<AdminRegisterWebhookMutation>(ADMIN_REGISTER_WEBHOOK);
  const [at, setAt] = useState<number | null>(null);
  if (!channel.registersWebhook) return null;
  const api = channel.platform === "TELEGRAM" ? "setWebhook" : "set_webhook";
  const run = async () => {
    setAt(null);
    const r = await register({ id: channel.id });
    if (r.data) setAt(Date.now());
    else onChanged(); // the refusal is on the channel's health now
  };
  const refused = result.error?.graphQLErrors[0]?.extensions?.platformCode;
  return (
    <Card>
      <CardHeader title={t("admin-channels.detail.register")} />
      <CardBody className="space-y-3 text-sm">
        <p className="text-muted-foreground">{t("admin-channels.detail.registerHelp", { platform, api })}</p>
        <Button variant="outline" disabled={result.fetching || !channel.enabled} onClick={() => void run()}>
          <Send className={result.fetching ? "animate-pulse" : undefined} aria-hidden />
          {result.fetching ? t("admin-channels.detail.registering") : t("admin-channels.detail.registerButton")}
        </Button>
        {at != null && !result.error && (
          <p className="flex items-center gap-1.5 font-medium text-success-strong" role="status" data-registered>
            <CheckCircle2 className="size-4" aria-hidden /> {t("admin-channels.detail.registered", { platform, when: new Date(at).toLocaleTimeString(i18n.language) })}
          </p>
        )}
        {result.error && (
          <div data-register-error={typeof refused === "string" ? refused : ""}>
            <ErrorState error={result.error} compact />
            {typeof refused === "string" && <p className="px-3 font-mono text-xs text-muted-foreground">{t("admin-channels.detail.registerRefused", { platform, code: refused })}</p>}
          </div>
        )}
      </CardBody>
    </Card>
  );
}

const retentionSchema = z
  .object({ mode: z.enum(["forever", "days"]), days: z.string() })
  .superRefine((v, ctx) => {
    if (v.mode !== "days") return;
    const n = Number(v.days);
    if (!/^\d+$/.test(v.days.trim()) || n < 1 || n > MAX_RETENTION_DAYS) ctx.addIssue({ code: "custom", path: ["days"], message: "admin-channels.v.retentionDays" });
  });
export { retentionSchema };
type RetentionForm = z.infer<typeof retentionSchema>;

export function RetentionCard({ channel, days, onSaved }: { channel: AdminChannel; days: number | null; onSaved: () => void }) {
  const { t } = useTranslation();
  const [result, save] = useMutation<AdminSetChannelRetentionMutation>(ADMIN_SET_CHANNEL_RETENTION);
  const [saved, setSaved] = useState(false);
  const form = useForm<RetentionForm>({ resolver: zodResolver(retentionSchema), defaultValues: { mode: days ? "days" : "forever", days: days ? String(days) : "90" } });
  const mode = form.watch("mode");
  const submit = form.handleSubmit(async (v) => {
    setSaved(false);
    const r = await save({ id: channel.id, days: v.mode === "days" ? Number(v.days) : null });
    if (r.data) {
      setSaved(true);
      form.reset(v);
      onSaved();
    }
  });
  const error = form.formState.errors.days?.message;
  const now = days ? t("admin-channels.detail.nDays", { count: days }) : t("admin-channels.detail.forever");
  return (
    <Card>
      <CardHeader title={t("admin-channels.detail.retention")} description={t("admin-channels.detail.retentionHelp")} />
      <form onSubmit={(e) => void submit(e)} noValidate>
        <CardBody className="space-y-3 text-sm">
          <p className="text-xs text-muted-foreground" data-retention={days ?? "forever"}>
            {t("admin-channels.detail.retentionNow", { what: now })}
          </p>
          <fieldset className="space-y-2">
            <legend className="sr-only">{t("admin-channels.detail.retention")}</legend>
            <label className="flex items-center gap-2">
              <input type="radio" value="forever" className="size-4 accent-primary" {...form.register("mode")} /> {t("admin-channels.detail.keepForever")}
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" value="days" className="size-4 accent-primary" {...form.register("mode")} /> {t("admin-channels.detail.keepDays")}
            </label>
          </fieldset>
          {mode === "days" && (
            <Field label={t("admin-channels.detail.daysLabel")} error={error ? t(error, { max: MAX_RETENTION_DAYS }) : undefined}>
              <Input inputMode="numeric" className="w-32" {...form.register("days")} />
            </Field>
          )}
          {result.error && <ErrorState error={result.error} compact />}
          <div className="flex items-center justify-end gap-3 pt-1">
            {saved && !form.formState.isDirty && (
              <span role="status" className="text-xs text-success-strong">
                {t("admin-channels.detail.retentionSaved")}
              </span>
            )}
            <Button type="submit" variant="outline" size="sm" disabled={!form.formState.isDirty || result.fetching}>
              {t("admin-channels.detail.saveRetention")}
            </Button>
          </div>
        </CardBody>
      </form>
    </Card>
  );
}

export function AvailabilityCard({ channel }: { channel: AdminChannel }) {
  const { t } = useTranslation();
  return (
    <Card>
      <CardHeader title={t("admin-channels.detail.availability")} />
      <CardBody className="space-y-3 text-sm">
        <p className="text-muted-foreground">{t(channel.enabled ? "admin-channels.detail.enabledText" : "admin-channels.detail.disabledText")}</p>
        <EnabledButton channel={channel} />
      </CardBody>
    </Card>
  );
}
