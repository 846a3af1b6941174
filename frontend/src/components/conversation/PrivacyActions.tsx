// Admins: the customer's data export (built in the background, polled until its signed link is
// ready) and erasure for good, which asks for a reason and the confirmation word typed out.
import { Download, FileDown, Loader2, ShieldAlert } from "lucide-react";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import type { CustomerExportQuery, EraseCustomerMutation, RequestExportMutation } from "@/api/graphql.generated";
import { CUSTOMER_EXPORT, ERASE_CUSTOMER, REQUEST_EXPORT } from "@/api/ops/inbox-plus";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { useServices } from "@/services";
import { useUi } from "@/state/ui";

type Export = CustomerExportQuery["customerExport"];

/** Whether erasure may go ahead: a reason, and the word typed exactly (any case, spaces trimmed). */
export function eraseReady(reason: string, typed: string, word: string): boolean {
  return reason.trim().length > 0 && typed.trim().toUpperCase() === word.toUpperCase();
}

export function PrivacyActions({ customerId, onErased }: { customerId: string; onErased: () => void }) {
  const { t } = useTranslation();
  const { client } = useServices();
  const showError = useUi((s) => s.showError);
  const [job, setJob] = useState<Export | null>(null);
  const [asking, setAsking] = useState(false);
  const [erasing, setErasing] = useState(false);
  const [reason, setReason] = useState("");
  const [typed, setTyped] = useState("");
  const [done, setDone] = useState<EraseCustomerMutation["eraseCustomer"] | null>(null);
  const word = t("inbox-plus.eraseWord");

  useEffect(() => {
    if (!job || job.status !== "PENDING") return;
    const timer = setTimeout(async () => {
      const r = await client.query<CustomerExportQuery>(CUSTOMER_EXPORT, { id: job.id }, { requestPolicy: "network-only" }).toPromise();
      if (r.data) setJob(r.data.customerExport);
      else if (r.error) setJob({ ...job, status: "FAILED", error: explain(r.error, t).message });
    }, 1500);
    return () => clearTimeout(timer);
  }, [job, client, t]);

  const requestExport = async () => {
    setAsking(true);
    const r = await client.mutation<RequestExportMutation>(REQUEST_EXPORT, { customerId }).toPromise();
    setAsking(false);
    if (r.error || !r.data) {
      const e = explain(r.error, t);
      return showError(e.message, e.code);
    }
    setJob(r.data.requestCustomerExport);
  };
  const erase = async () => {
    const r = await client.mutation<EraseCustomerMutation>(ERASE_CUSTOMER, { customerId, reason: reason.trim() }).toPromise();
    setErasing(false);
    if (r.error || !r.data) {
      const e = explain(r.error, t);
      return showError(e.message, e.code);
    }
    setDone(r.data.eraseCustomer);
    setReason("");
    setTyped("");
    onErased();
  };

  return (
    <div className="space-y-2" data-testid="privacy">
      <div className="flex flex-wrap gap-1.5">
        <Button variant="outline" size="sm" className="h-7 text-xs" onClick={() => void requestExport()} disabled={asking || job?.status === "PENDING"}>
          <FileDown aria-hidden className="size-3.5" /> {t("inbox-plus.export")}
        </Button>
        <Button variant="outline" size="sm" className="h-7 border-destructive/40 text-xs text-destructive hover:bg-destructive/10 hover:text-destructive" onClick={() => setErasing(true)}>
          <ShieldAlert aria-hidden className="size-3.5" /> {t("inbox-plus.erase")}
        </Button>
      </div>
      {job && (
        <p className="flex items-center gap-1.5 text-xs" role="status" data-export={job.status}>
          {job.status === "PENDING" && <><Loader2 className="size-3.5 animate-spin" aria-hidden /> {t("inbox-plus.exportPending")}</>}
          {job.status === "READY" && job.downloadUrl && (
            <a href={job.downloadUrl} className="inline-flex items-center gap-1 font-medium text-primary underline-offset-2 hover:underline" download>
              <Download className="size-3.5" aria-hidden /> {t("inbox-plus.exportReady")}
            </a>
          )}
          {job.status !== "PENDING" && job.status !== "READY" && <span className="text-destructive">{t(`inbox-plus.exportStatus.${job.status}`)}{job.error ? `: ${job.error}` : ""}</span>}
        </p>
      )}
      {done && <p className="text-xs text-muted-foreground" role="status">{t("inbox-plus.erased", { count: done.conversations, messages: done.messages })}</p>}
      <AlertDialog open={erasing} onOpenChange={setErasing}>
        <AlertDialogContent
          title={t("inbox-plus.eraseTitle")}
          description={t("inbox-plus.eraseHint")}
          cancelLabel={t("inbox-plus.cancel")}
          confirmLabel={t("inbox-plus.eraseConfirm")}
          confirmDisabled={!eraseReady(reason, typed, word)}
          onConfirm={() => void erase()}
        >
          <div className="space-y-3">
            <Field label={t("inbox-plus.eraseReason")} hint={t("inbox-plus.eraseReasonHint")}>
              <Textarea rows={2} value={reason} onChange={(e) => setReason(e.target.value)} />
            </Field>
            <Field label={t("inbox-plus.eraseType", { word })}>
              <Input value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
            </Field>
          </div>
        </AlertDialogContent>
      </AlertDialog>
    </div>
  );
}
