// Parts the integrations sections share: dates in the reader's language, a copy button, the
// "shown once" secret panel and a passing error toast (the list pages' states: ListScaffold).
import { AlertTriangle, Check, Copy } from "lucide-react";
import { useCallback, useEffect, useId, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { explain } from "@/api/errors";
import { Toast } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { cn } from "@/lib/utils";

/** "5 Dec 2026, 21:30" in the current language; "—" for nothing. */
export function useFormatDate() {
  const { i18n } = useTranslation();
  return useCallback(
    (iso: string | null | undefined, withTime = true) => {
      if (!iso) return "—";
      const d = new Date(iso);
      if (Number.isNaN(d.getTime())) return "—";
      return new Intl.DateTimeFormat(i18n.language, withTime ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" }).format(d);
    },
    [i18n.language],
  );
}

/** The clipboard API where the page may use it (HTTPS, localhost), else the old copy command. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* refused: try the old way */
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

export function CopyButton({ value, label }: { value: string; label: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <Button
      type="button"
      variant="outline"
      size="sm"
      onClick={() => {
        void copyText(value).then(setCopied);
      }}
    >
      {copied ? <Check aria-hidden /> : <Copy aria-hidden />}
      {copied ? t("integrations.common.copied") : label}
    </Button>
  );
}

/** A secret the server returns this once: the value, a copy button and why it must be kept now. */
export function OneTimeSecret({ value, label, warning }: { value: string; label: string; warning: string }) {
  const { t } = useTranslation();
  return (
    <div className="space-y-3">
      <div className="flex items-start gap-2 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900">
        <AlertTriangle className="mt-0.5 size-4 shrink-0" aria-hidden />
        <p>{warning}</p>
      </div>
      <div>
        <p className="mb-1.5 text-sm font-medium">{label}</p>
        <div className="flex items-center gap-2">
          <code data-secret className="min-w-0 flex-1 break-all rounded-md border border-border bg-muted/50 px-3 py-2 font-mono text-xs">
            {value}
          </code>
          <CopyButton value={value} label={t("integrations.common.copy")} />
        </div>
      </div>
    </div>
  );
}

/** A refused action's error, shown as a toast until dismissed. */
export function useActionError() {
  const { t } = useTranslation();
  const [error, setError] = useState<unknown>(null);
  const toast = error ? (() => {
    const e = explain(error, t);
    return <Toast message={e.detail ? `${e.message} ${e.detail}` : e.message} code={e.code} onDismiss={() => setError(null)} />;
  })() : null;
  return { setError, toast };
}

/** The first problem the server named for a form (BAD_USER_INPUT's message), or null. */
export function serverProblem(error: unknown, t: (k: string) => string): string | null {
  if (!error) return null;
  const e = explain(error, t as never);
  return e.detail ? `${e.message} — ${e.detail}` : e.message;
}

/** A labelled set of checkboxes over a list of values (events, platforms, channels). */
export function CheckboxGroup({
  idPrefix,
  items,
  value,
  onChange,
  columns = 2,
  mono = false,
}: {
  idPrefix: string;
  items: { value: string; label: string }[];
  value: string[];
  onChange: (next: string[]) => void;
  columns?: 2 | 3 | 4;
  mono?: boolean;
}) {
  const cols = { 2: "grid-cols-2", 3: "grid-cols-3", 4: "grid-cols-4" }[columns];
  return (
    <ul className={`grid ${cols} gap-x-4 gap-y-2`}>
      {items.map((item) => {
        const id = `${idPrefix}-${item.value}`;
        return (
          <li key={item.value} className="flex items-center gap-2">
            <Checkbox id={id} checked={value.includes(item.value)} onCheckedChange={(on) => onChange(on ? [...value, item.value] : value.filter((v) => v !== item.value))} />
            <label htmlFor={id} className={mono ? "font-mono text-xs" : "text-sm"}>
              {item.label}
            </label>
          </li>
        );
      })}
    </ul>
  );
}

/** A labelled Radix select (Field labels its direct child, which a Select root cannot take). */
export function SelectField({
  label,
  hint,
  error,
  value,
  onChange,
  items,
  placeholder,
  className,
}: {
  label: ReactNode;
  hint?: string | null;
  error?: string;
  value: string;
  onChange: (v: string) => void;
  items: { value: string; label: string }[];
  placeholder?: string;
  className?: string;
}) {
  const id = useId();
  const described = [hint && !error ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={cn("space-y-1.5", className)}>
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      <Select value={value || undefined} onValueChange={onChange}>
        <SelectTrigger id={id} className="h-9 text-sm" aria-invalid={error ? true : undefined} aria-describedby={described}>
          <SelectValue placeholder={placeholder} />
        </SelectTrigger>
        <SelectContent>
          {items.map((i) => (
            <SelectItem key={i.value} value={i.value}>
              {i.label}
            </SelectItem>
          ))}
        </SelectContent>
      </Select>
      {hint && !error && (
        <p id={`${id}-hint`} className="text-xs text-muted-foreground">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="text-xs font-medium text-destructive">
          {error}
        </p>
      )}
    </div>
  );
}
