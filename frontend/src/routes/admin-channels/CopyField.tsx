// A value to paste elsewhere (the webhook URL, a token shown once) with a Copy button that says
// whether it worked. The Clipboard API needs a secure context; without it the copy command is
// tried on the selected text, and where that fails too the text stays selected to copy by hand.
import { Check, Copy } from "lucide-react";
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { Textarea } from "@/components/ui/input";
import { cn } from "@/lib/utils";

export function CopyField({ label, value, multiline = false, className }: { label: string; value: string; multiline?: boolean; className?: string }) {
  const { t } = useTranslation();
  const id = useId();
  const box = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state !== "copied") return;
    const timer = setTimeout(() => setState("idle"), 2000);
    return () => clearTimeout(timer);
  }, [state]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setState("copied");
    } catch {
      // No Clipboard API (plain http on a LAN address) or refused: the copy command on the
      // selected text, and if even that fails the text stays selected for copying by hand.
      box.current?.select();
      let done = false;
      try {
        done = document.execCommand("copy");
      } catch {
        done = false;
      }
      setState(done ? "copied" : "failed");
    }
  };

  const control = "w-full rounded-md border border-input bg-muted/40 px-3 font-mono text-xs text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring";
  return (
    <div className={cn("space-y-1.5", className)}>
      <label htmlFor={id} className="block text-xs font-medium text-muted-foreground">
        {label}
      </label>
      <div className={cn("flex gap-2", multiline ? "items-start" : "items-center")}>
        {multiline ? (
          <Textarea ref={box} id={id} readOnly value={value} rows={3} className={cn(control, "py-2 text-xs")} onFocus={(e) => e.currentTarget.select()} />
        ) : (
          <input ref={box} id={id} readOnly value={value} className={cn(control, "h-9")} onFocus={(e) => e.currentTarget.select()} />
        )}
        <Button
          type="button"
          variant="outline"
          onClick={() => void copy()}
          data-copy-state={state}
          className={cn("w-24 shrink-0", state === "copied" && "border-emerald-600 bg-success-soft text-success-strong hover:bg-success-soft hover:text-success-strong")}
        >
          {state === "copied" ? <Check aria-hidden /> : <Copy aria-hidden />}
          {state === "copied" ? t("admin-channels.setup.copied") : t("admin-channels.setup.copy")}
          <span className="sr-only"> {label}</span>
        </Button>
      </div>
      <p role="status" aria-live="polite" className={cn("text-xs", state === "failed" ? "text-destructive" : "sr-only")}>
        {state === "copied" ? t("admin-channels.setup.copied") : state === "failed" ? t("admin-channels.setup.copyFailed") : ""}
      </p>
    </div>
  );
}
