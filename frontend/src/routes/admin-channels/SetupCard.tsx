// Where to paste what: the webhook URL to copy (or web chat's snippet), the platform's steps,
// and right after creation the tokens we made up, shown this once.
import { CheckCircle2, KeyRound, Link2 } from "lucide-react";
import { useTranslation } from "react-i18next";
import { platformLabel } from "@/components/PlatformIcon";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { cn } from "@/lib/utils";
import { CopyField } from "./CopyField";
import { useFieldText } from "./ChannelFields";
import { specOf } from "./platforms";
import type { AdminChannel } from "./types";

export function emailInbound(channel: AdminChannel): string {
  const provider = channel.config.provider;
  return typeof provider === "string" ? provider : "imap";
}

export function stepsKey(channel: AdminChannel): string {
  return channel.platform === "EMAIL" ? `EMAIL_${emailInbound(channel)}` : channel.platform;
}

export function widgetSnippet(channel: AdminChannel): string {
  const origin = new URL(channel.webhookUrl).origin;
  return `<script src="${origin}/webchat/widget.js" data-key="${String(channel.config.public_key ?? "")}" async></script>`;
}

export function inboundUrl(channel: AdminChannel, key: string): string {
  return `${channel.webhookUrl}?key=${encodeURIComponent(key)}`;
}

/** The tokens we made up, each to copy now: they are write-only afterwards. */
export function ShownOnce({ channel, secrets }: { channel: AdminChannel; secrets: Record<string, string> }) {
  const { t } = useTranslation();
  const text = useFieldText();
  const entries = Object.entries(secrets);
  if (!entries.length) return null;
  return (
    <div className="space-y-3 rounded-lg border border-amber-300 bg-warning-soft/60 p-4" data-shown-once>
      <p className="flex items-center gap-2 text-sm font-semibold text-warning-strong">
        <KeyRound className="size-4" aria-hidden /> {t("admin-channels.setup.once")}
      </p>
      <p className="text-xs text-warning-strong">{t("admin-channels.setup.onceHelp")}</p>
      {entries.map(([key, value]) => (
        <CopyField key={key} label={text(channel.platform, key, "label")} value={value} />
      ))}
      {channel.platform === "EMAIL" && secrets.inbound_key && emailInbound(channel) === "sendgrid" && (
        <CopyField label={t("admin-channels.setup.inboundUrl")} value={inboundUrl(channel, secrets.inbound_key)} />
      )}
    </div>
  );
}

export function SetupCard({ channel, generated, justCreated }: { channel: AdminChannel; generated: Record<string, string>; justCreated: boolean }) {
  const { t } = useTranslation();
  const platform = platformLabel(channel.platform);
  const spec = specOf(channel.platform);
  const steps = t(`admin-channels.steps.${stepsKey(channel)}`, { returnObjects: true }) as string[];
  const mailbox = channel.platform === "EMAIL" && emailInbound(channel) === "imap";
  return (
    <Card className={cn(justCreated && "border-primary/50 ring-2 ring-primary/15")} data-setup>
      <CardHeader title={t("admin-channels.setup.title", { platform })} />
      <CardBody className="space-y-5">
        {justCreated && (
          <p className="flex items-start gap-2 rounded-lg bg-success-soft px-3 py-2.5 text-sm text-success-strong" role="status">
            <CheckCircle2 className="mt-0.5 size-4 shrink-0" aria-hidden />
            {t("admin-channels.setup.created", { name: channel.name, platform })}
          </p>
        )}
        {channel.platform === "WEBCHAT" ? (
          <CopyField label={t("admin-channels.setup.snippet")} value={widgetSnippet(channel)} multiline />
        ) : (
          !mailbox && (
            <div className="space-y-2">
              <CopyField label={t("admin-channels.setup.webhookUrl")} value={channel.webhookUrl} />
              {spec.webhook === "auto" && (
                <p className="flex items-center gap-1.5 text-xs text-muted-foreground">
                  <Link2 className="size-3.5" aria-hidden /> {t("admin-channels.setup.autoDone", { platform })}
                </p>
              )}
            </div>
          )
        )}
        <ShownOnce channel={channel} secrets={generated} />
        <SetupSteps steps={steps} />
      </CardBody>
    </Card>
  );
}

export function SetupSteps({ steps }: { steps: string[] }) {
  return (
    <ol className="space-y-2.5">
      {steps.map((step, i) => (
        <li key={step} className="flex gap-3 text-sm">
          <span className="flex size-6 shrink-0 items-center justify-center rounded-full bg-primary/10 text-xs font-semibold text-primary" aria-hidden>
            {i + 1}
          </span>
          <span className="pt-0.5">{step}</span>
        </li>
      ))}
    </ol>
  );
}
