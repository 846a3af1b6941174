// An endpoint's signing secret, returned by the server only on creation and rotation.
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { OneTimeSecret } from "../common";

export function SecretDialog({ secret, onClose }: { secret: string | null; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Dialog open={secret !== null} onOpenChange={(open) => !open && onClose()}>
      <DialogContent title={t("integrations.webhooks.secretTitle")} closeLabel={t("integrations.common.close")}>
        {secret && (
          <div className="space-y-4">
            <OneTimeSecret value={secret} label={t("integrations.webhooks.secret")} warning={t("integrations.webhooks.secretWarning")} />
            <p className="text-xs text-muted-foreground">{t("integrations.webhooks.secretHint")}</p>
            <div className="flex justify-end">
              <Button onClick={onClose}>{t("integrations.webhooks.secretDone")}</Button>
            </div>
          </div>
        )}
      </DialogContent>
    </Dialog>
  );
}
