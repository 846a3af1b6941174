import { AlertTriangle, X } from "lucide-react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import { Button } from "./ui/button";

/** An error where the content would be: what it means (from extensions.code), and a retry. */
export function ErrorState({ error, onRetry, compact }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const { t } = useTranslation();
  const e = explain(error, t);
  return (
    <div role="alert" className={compact ? "flex items-start gap-2 p-3 text-sm" : "flex flex-col items-center gap-2 p-8 text-center text-sm"}>
      <AlertTriangle className="size-5 shrink-0 text-red-600" aria-hidden />
      <div>
        <p className="font-medium text-foreground">{e.message}</p>
        <p className="mt-0.5 font-mono text-xs text-muted-foreground">{e.code}{e.detail ? ` · ${e.detail}` : ""}</p>
      </div>
      {onRetry && (
        <Button variant="outline" size="sm" onClick={onRetry}>
          {t("errors.retry")}
        </Button>
      )}
    </div>
  );
}

/** A passing error (a failed send, a refused action): shown at the bottom until dismissed. */
export function Toast({ message, code, onDismiss }: { message: string; code?: string; onDismiss: () => void }) {
  const { t } = useTranslation();
  return (
    <div role="alert" className="fixed bottom-4 left-1/2 z-50 flex max-w-lg -translate-x-1/2 items-start gap-3 rounded-lg border border-red-200 bg-white px-4 py-3 text-sm shadow-lg">
      <AlertTriangle className="mt-0.5 size-4 shrink-0 text-red-600" aria-hidden />
      <div>
        <p className="font-medium">{message}</p>
        {code && <p className="font-mono text-xs text-muted-foreground">{code}</p>}
      </div>
      <button onClick={onDismiss} className="rounded p-0.5 text-muted-foreground hover:text-foreground" aria-label={t("errors.dismiss")}>
        <X className="size-4" aria-hidden />
      </button>
    </div>
  );
}
