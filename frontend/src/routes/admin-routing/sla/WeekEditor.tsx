// Business hours, a row per weekday: open or closed, and its time ranges (a lunch break is two).
import { Copy, Plus, X } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Switch } from "@/components/ui/switch";
import { cn } from "@/lib/utils";
import { DAYS, type Day, type Range, type Week } from "../hours";

const K = "admin-routing.sla";

export function WeekEditor({ week, onChange, errors }: { week: Week; onChange: (week: Week) => void; errors: Partial<Record<Day, string>> }) {
  const { t } = useTranslation();
  const setDay = (day: Day, ranges: Range[]) => onChange({ ...week, [day]: ranges });
  const copyMonday = () =>
    onChange({ ...week, ...Object.fromEntries(DAYS.slice(1, 5).map((d) => [d, week.mon.map((r) => ({ ...r }))])) });
  return (
    <div>
      <ul className="divide-y divide-border rounded-lg border border-border">
        {DAYS.map((day) => {
          const ranges = week[day];
          const open = ranges.length > 0;
          const name = t(`${K}.longDays.${day}`);
          const error = errors[day];
          return (
            <li key={day} data-day={day} className={cn("flex items-start gap-4 px-4 py-3", !open && "bg-muted/30")}>
              <div className="flex w-32 shrink-0 items-center gap-3 pt-1.5">
                <Switch
                  checked={open}
                  aria-label={`${name}: ${open ? t(`${K}.form.open`) : t(`${K}.form.closed`)}`}
                  onCheckedChange={(on) => setDay(day, on ? [{ start: "09:00", end: "18:00" }] : [])}
                />
                <span className={cn("text-sm font-medium", !open && "text-muted-foreground")}>{name}</span>
              </div>
              <div className="min-w-0 flex-1">
                {!open ? (
                  <p className="pt-1.5 text-sm text-muted-foreground">{t(`${K}.form.closed`)}</p>
                ) : (
                  <div className="flex flex-wrap items-center gap-2">
                    {ranges.map((range, i) => (
                      <div key={i} className="flex items-center gap-1.5 rounded-md border border-border bg-background py-1 pl-2 pr-1">
                        <Input
                          type="time"
                          value={range.start}
                          aria-label={`${name} ${i + 1}: ${t(`${K}.form.from`)}`}
                          aria-invalid={error ? true : undefined}
                          className="h-7 w-[6.5rem] border-0 px-1 shadow-none"
                          onChange={(e) => setDay(day, ranges.map((r, j) => (j === i ? { ...r, start: e.target.value } : r)))}
                        />
                        <span className="text-muted-foreground" aria-hidden>–</span>
                        <Input
                          type="time"
                          value={range.end}
                          aria-label={`${name} ${i + 1}: ${t(`${K}.form.to`)}`}
                          aria-invalid={error ? true : undefined}
                          className="h-7 w-[6.5rem] border-0 px-1 shadow-none"
                          onChange={(e) => setDay(day, ranges.map((r, j) => (j === i ? { ...r, end: e.target.value } : r)))}
                        />
                        <Button
                          type="button"
                          variant="ghost"
                          size="icon"
                          className="size-6"
                          aria-label={t(`${K}.form.removeRange`, { from: range.start, to: range.end, day: name })}
                          onClick={() => setDay(day, ranges.filter((_, j) => j !== i))}
                        >
                          <X aria-hidden />
                        </Button>
                      </div>
                    ))}
                    <Button
                      type="button"
                      variant="ghost"
                      size="sm"
                      aria-label={`${t(`${K}.form.addRange`)}: ${name}`}
                      onClick={() => {
                        const last = ranges[ranges.length - 1];
                        setDay(day, [...ranges, last && last.end < "22:00" ? { start: last.end, end: "22:00" } : { start: "13:00", end: "18:00" }]);
                      }}
                    >
                      <Plus aria-hidden /> {t(`${K}.form.addRange`)}
                    </Button>
                  </div>
                )}
                {error && (
                  <p role="alert" className="mt-1.5 text-xs font-medium text-destructive">
                    {t(`${K}.errors.${error}`)}
                  </p>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      <Button type="button" variant="outline" size="sm" className="mt-3" onClick={copyMonday} disabled={week.mon.length === 0}>
        <Copy aria-hidden /> {t(`${K}.form.copyToWeekdays`)}
      </Button>
    </div>
  );
}
