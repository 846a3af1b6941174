// Holidays: a date picker to add one, and the list (sorted) with a remove button each.
import { CalendarOff, Plus, X } from "lucide-react";
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";

const K = "admin-routing.sla";

/** "2026-12-25" as the reader's date ("Fri, Dec 25, 2026"), read as a calendar day (no time zone shift). */
export function holidayLabel(date: string, language: string): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Intl.DateTimeFormat(language, { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

export function HolidaysEditor({ holidays, onChange }: { holidays: string[]; onChange: (holidays: string[]) => void }) {
  const { t, i18n } = useTranslation();
  const [date, setDate] = useState("");
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const add = () => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return;
    if (holidays.includes(date)) {
      setError(t(`${K}.errors.holidayDuplicate`));
      return;
    }
    onChange([...holidays, date].sort());
    setDate("");
    setError(null);
  };
  return (
    <div>
      <div className="flex items-end gap-2">
        <div className="space-y-1.5">
          <label htmlFor={id} className="block text-sm font-medium">{t(`${K}.form.holidayDate`)}</label>
          <Input
            id={id}
            type="date"
            value={date}
            className="w-44"
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-error` : undefined}
            onChange={(e) => {
              setDate(e.target.value);
              setError(null);
            }}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                add();
              }
            }}
          />
        </div>
        <Button type="button" variant="outline" onClick={add} disabled={!date}>
          <Plus aria-hidden /> {t(`${K}.form.addHoliday`)}
        </Button>
      </div>
      {error && <p id={`${id}-error`} role="alert" className="mt-1.5 text-xs font-medium text-destructive">{error}</p>}
      {holidays.length === 0 ? (
        <p className="mt-3 text-sm text-muted-foreground">{t(`${K}.form.noHolidays`)}</p>
      ) : (
        <ul className="mt-3 flex flex-wrap gap-2" aria-label={t(`${K}.form.holidays`)}>
          {holidays.map((h) => (
            <li key={h} data-holiday={h} className="flex items-center gap-1.5 rounded-full border border-border bg-muted/40 py-1 pl-3 pr-1 text-sm">
              <CalendarOff className="size-3.5 text-muted-foreground" aria-hidden />
              <time dateTime={h}>{holidayLabel(h, i18n.language)}</time>
              <Button
                type="button"
                variant="ghost"
                size="icon"
                className="size-6 rounded-full"
                aria-label={t(`${K}.form.removeHoliday`, { date: holidayLabel(h, i18n.language) })}
                onClick={() => onChange(holidays.filter((x) => x !== h))}
              >
                <X aria-hidden />
              </Button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
