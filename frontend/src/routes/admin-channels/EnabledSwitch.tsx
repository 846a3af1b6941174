// Enable at once; disable after a confirmation (its webhooks are refused from then on).
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { AdminUpdateChannelMutation } from "@/api/graphql.generated";
import { ADMIN_UPDATE_CHANNEL } from "@/api/ops/admin-channels";
import { Toast } from "@/components/ErrorState";
import { explain } from "@/api/errors";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Switch } from "@/components/ui/switch";
import type { AdminChannel } from "./types";

export function useSetEnabled(channel: AdminChannel) {
  const { t } = useTranslation();
  const [result, update] = useMutation<AdminUpdateChannelMutation>(ADMIN_UPDATE_CHANNEL);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = async (enabled: boolean) => {
    setError(null);
    const r = await update({ input: { id: channel.id, enabled } });
    if (r.error) setError(r.error);
  };
  const request = (enabled: boolean) => (enabled ? void set(true) : setConfirming(true));
  const e = error ? explain(error, t) : null;
  const dialogs = (
    <>
      <AlertDialog open={confirming} onOpenChange={setConfirming}>
        <AlertDialogContent
          title={t("admin-channels.disable.title", { name: channel.name })}
          description={t("admin-channels.disable.description")}
          cancelLabel={t("admin-channels.disable.cancel")}
          confirmLabel={t("admin-channels.disable.confirm")}
          onConfirm={() => void set(false)}
        />
      </AlertDialog>
      {e && <Toast message={e.message} code={e.code} onDismiss={() => setError(null)} />}
    </>
  );
  return { request, busy: result.fetching, dialogs };
}

export function EnabledSwitch({ channel }: { channel: AdminChannel }) {
  const { t } = useTranslation();
  const { request, busy, dialogs } = useSetEnabled(channel);
  return (
    <>
      <Switch
        checked={channel.enabled}
        disabled={busy}
        onCheckedChange={request}
        aria-label={t(channel.enabled ? "admin-channels.toggle.disable" : "admin-channels.toggle.enable", { name: channel.name })}
      />
      {dialogs}
    </>
  );
}

export function EnabledButton({ channel }: { channel: AdminChannel }) {
  const { t } = useTranslation();
  const { request, busy, dialogs } = useSetEnabled(channel);
  return (
    <>
      <Button variant={channel.enabled ? "outline" : "default"} className={channel.enabled ? "text-destructive hover:text-destructive" : undefined} disabled={busy} onClick={() => request(!channel.enabled)}>
        {t(channel.enabled ? "admin-channels.detail.disableButton" : "admin-channels.detail.enableButton")}
      </Button>
      {dialogs}
    </>
  );
}
