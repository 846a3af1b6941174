// Snooze until a picked date and time (or a quick choice): the conversation reopens itself then,
// or as soon as the customer writes.
import { BellOff } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { Input, Label } from "@/components/ui/input";
import { Popover, PopoverContent, PopoverTrigger } from "@/components/ui/popover";

/** A Date as the value of an <input type="datetime-local"> (local time, minutes). */
export function localInput(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function presets(now: Date): { key: string; at: Date }[] {
  const at = (days: number, hour: number) => {
    const d = new Date(now);
    d.setDate(d.getDate() + days);
    d.setHours(hour, 0, 0, 0);
    return d;
  };
  const monday = (8 - now.getDay()) % 7 || 7;
  return [
    { key: "hour", at: new Date(now.getTime() + 3600_000) },
    { key: "evening", at: at(0, 18) },
    { key: "tomorrow", at: at(1, 9) },
    { key: "monday", at: at(monday, 9) },
  ].filter((p) => p.at.getTime() > now.getTime() + 60_000);
}

/** The picked value as an instant, or why it cannot be one. */
export function parseSnooze(value: string, now: Date): { until: string } | { error: "required" | "past" } {
  if (!value) return { error: "required" };
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) return { error: "required" };
  if (at.getTime() <= now.getTime()) return { error: "past" };
  return { until: at.toISOString() };
}

export function SnoozePicker({ onSnooze }: { onSnooze: (until: string) => Promise<boolean> }) {
  const { t, i18n } = useTranslation();
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const now = new Date();
  const pick = async (until: string) => {
    if (await onSnooze(until)) {
      setOpen(false);
      setValue("");
    }
  };
  const submit = () => {
    const parsed = parseSnooze(value, new Date());
    if ("error" in parsed) return setError(t(`inbox-plus.snoozeError.${parsed.error}`));
    void pick(parsed.until);
  };
  return (
    <Popover open={open} onOpenChange={(o) => { setOpen(o); setError(null); if (o && !value) setValue(localInput(presets(new Date())[2]?.at ?? new Date(Date.now() + 86_400_000))); }}>
      <PopoverTrigger asChild>
        <Button variant="outline" size="sm" data-testid="snooze-button"><BellOff aria-hidden /> {t("conversation.snooze")}</Button>
      </PopoverTrigger>
      <PopoverContent align="end" className="w-72 space-y-3" aria-label={t("conversation.snooze")}>
        <p className="text-sm font-semibold">{t("inbox-plus.snoozeTitle")}</p>
        <div className="grid grid-cols-2 gap-1.5">
          {presets(now).map((p) => (
            <button key={p.key} type="button" onClick={() => void pick(p.at.toISOString())}
              className="rounded-md border px-2 py-1.5 text-left hover:bg-muted focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
              <span className="block text-xs font-medium">{t(`inbox-plus.snoozePreset.${p.key}`)}</span>
              <span className="block text-[11px] text-muted-foreground">{p.at.toLocaleString(i18n.language, { weekday: "short", hour: "2-digit", minute: "2-digit" })}</span>
            </button>
          ))}
        </div>
        <form className="space-y-1.5 border-t pt-3" onSubmit={(e) => { e.preventDefault(); submit(); }}>
          <Label htmlFor="snooze-until" className="text-xs">{t("inbox-plus.snoozeUntil")}</Label>
          <div className="flex gap-1.5">
            <Input id="snooze-until" type="datetime-local" value={value} min={localInput(now)} className="h-8 text-xs"
              aria-invalid={error ? true : undefined} aria-describedby={error ? "snooze-error" : undefined}
              onChange={(e) => { setValue(e.target.value); setError(null); }} />
            <Button type="submit" size="sm" className="h-8">{t("inbox-plus.snoozeSubmit")}</Button>
          </div>
          {error && <p id="snooze-error" role="alert" className="text-xs font-medium text-destructive">{error}</p>}
        </form>
      </PopoverContent>
    </Popover>
  );
}
