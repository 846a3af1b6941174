// Publish (the draft saved as a version with a note, then that version published) and unpublish.
import { Rocket } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import { PUBLISH_FLOW, UNPUBLISH_FLOW } from "@/api/ops/flows";
import { ErrorState } from "@/components/ErrorState";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Textarea } from "@/components/ui/input";
import type { FlowMeta } from "./FlowEditor";

export function PublishControls({
  flow, blocked, onSave, onFlow,
}: {
  flow: FlowMeta | null;
  blocked: boolean;
  onSave: (note?: string) => Promise<FlowMeta | null>;
  onFlow: (flow: FlowMeta) => void;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const [confirmUnpublish, setConfirmUnpublish] = useState(false);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [, publish] = useMutation(PUBLISH_FLOW);
  const [, unpublish] = useMutation(UNPUBLISH_FLOW);

  const submit = async () => {
    setBusy(true);
    setError(null);
    const savedFlow = await onSave(note.trim());
    if (!savedFlow) {
      setBusy(false);
      setError(Object.assign(new Error(t("flows.publish.notSaved")), { code: "BAD_USER_INPUT" }));
      return;
    }
    const result = await publish({ id: savedFlow.id, version: savedFlow.version });
    setBusy(false);
    if (result.error || !result.data) return setError(result.error);
    onFlow(result.data.publishFlow as FlowMeta);
    setOpen(false);
    setNote("");
  };

  const doUnpublish = async () => {
    if (!flow) return;
    const result = await unpublish({ id: flow.id });
    if (result.error || !result.data) return setError(result.error);
    onFlow(result.data.unpublishFlow as FlowMeta);
  };

  return (
    <>
      {flow?.publishedVersion != null && (
        <AlertDialog open={confirmUnpublish} onOpenChange={setConfirmUnpublish}>
          <Button variant="outline" size="sm" onClick={() => setConfirmUnpublish(true)}>
            {t("flows.publish.unpublish")}
          </Button>
          <AlertDialogContent
            title={t("flows.publish.unpublishTitle")}
            description={t("flows.publish.unpublishText")}
            cancelLabel={t("flows.common.cancel")}
            confirmLabel={t("flows.publish.unpublish")}
            onConfirm={() => void doUnpublish()}
          />
        </AlertDialog>
      )}
      <Dialog open={open} onOpenChange={(o) => { setOpen(o); setError(null); }}>
        <Button size="sm" onClick={() => setOpen(true)} disabled={blocked} title={blocked ? t("flows.publish.blocked") : undefined}>
          <Rocket aria-hidden /> {t("flows.publish.button")}
        </Button>
        <DialogContent title={t("flows.publish.title")} description={t("flows.publish.description")} closeLabel={t("flows.common.close")}>
          <form
            className="space-y-4"
            onSubmit={(e) => {
              e.preventDefault();
              void submit();
            }}
          >
            <Field label={t("flows.publish.note")} hint={t("flows.publish.noteHint")}>
              <Textarea rows={3} value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} />
            </Field>
            {error != null && <ErrorState error={error} compact />}
            <div className="flex justify-end gap-2">
              <Button type="button" variant="outline" onClick={() => setOpen(false)}>{t("flows.common.cancel")}</Button>
              <Button type="submit" disabled={busy}>{busy ? t("flows.publish.publishing") : t("flows.publish.confirm")}</Button>
            </div>
          </form>
        </DialogContent>
      </Dialog>
    </>
  );
}
