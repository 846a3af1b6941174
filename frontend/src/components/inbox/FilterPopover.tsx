// Every filter the server's ConversationFilter takes, in one popover, and the ones that are on as
// chips under the search box (each removable on its own).
import { SlidersHorizontal, X } from "lucide-react";
import { useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { platformLabel } from "@/components/PlatformIcon";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Input, Label } from "@/components/ui/input";
import { Popover, PopoverContent, PopoverTrigger } from "@/components/ui/popover";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { activeCount, DEFAULT_FILTER } from "@/state/filters";
import { useUi } from "@/state/ui";
import { useDirectory } from "./useDirectory";

export const ANY = "any"; // Radix Select has no empty value
export const PLATFORMS = ["WHATSAPP", "TELEGRAM", "INSTAGRAM", "MESSENGER", "WEBCHAT", "EMAIL", "SMS", "DISCORD", "SLACK", "LINE", "VIBER", "WECHAT"];
export const PRIORITIES = ["URGENT", "HIGH", "NORMAL", "LOW"];

function Pick({ label, value, onChange, any, options }: { label: string; value: string; onChange: (v: string) => void; any: string; options: { value: string; label: string }[] }) {
  return (
    <div className="space-y-1">
      <Label className="text-xs text-muted-foreground">{label}</Label>
      <Select value={value || ANY} onValueChange={(v) => onChange(v === ANY ? "" : v)}>
        <SelectTrigger aria-label={label}><SelectValue /></SelectTrigger>
        <SelectContent>
          <SelectItem value={ANY}>{any}</SelectItem>
          {options.map((o) => <SelectItem key={o.value} value={o.value}>{o.label}</SelectItem>)}
        </SelectContent>
      </Select>
    </div>
  );
}

export function FilterPopover() {
  const { t } = useTranslation();
  const filter = useUi((s) => s.filter);
  const setFilter = useUi((s) => s.setFilter);
  const { people, teams, channels, labels } = useDirectory();
  const [label, setLabel] = useState("");
  const count = activeCount(filter);
  const addLabel = (raw: string) => {
    const l = raw.trim();
    if (l && !filter.labels.some((x) => x.toLowerCase() === l.toLowerCase())) setFilter({ labels: [...filter.labels, l] });
    setLabel("");
  };
  const suggestions = labels.filter((l) => !filter.labels.includes(l) && l.toLowerCase().includes(label.toLowerCase())).slice(0, 6);

  return (
    <Popover>
      <PopoverTrigger asChild>
        <Button variant="outline" size="sm" className="h-8 shrink-0 gap-1.5 px-2.5 text-xs" data-testid="filters-button">
          <SlidersHorizontal aria-hidden className="size-3.5" /> {t("inbox-plus.filters")}
          {count > 0 && <span className="rounded-full bg-primary px-1.5 text-[10px] font-semibold text-primary-foreground">{count}</span>}
        </Button>
      </PopoverTrigger>
      <PopoverContent align="start" className="w-80 space-y-3" aria-label={t("inbox-plus.filters")}>
        <div className="grid grid-cols-2 gap-2">
          <Pick label={t("inbox.priority")} value={filter.priority} onChange={(priority) => setFilter({ priority })} any={t("inbox.anyPriority")}
            options={PRIORITIES.map((p) => ({ value: p, label: t(`priority.${p}`) }))} />
          {filter.tab === "all" && (
            <Pick label={t("inbox-plus.assignee")} value={filter.assigneeId} onChange={(assigneeId) => setFilter({ assigneeId })} any={t("inbox-plus.anyone")}
              options={people.map((p) => ({ value: p.id, label: p.name }))} />
          )}
          <Pick label={t("inbox-plus.team")} value={filter.teamId} onChange={(teamId) => setFilter({ teamId })} any={t("inbox-plus.anyTeam")}
            options={teams.map((x) => ({ value: x.id, label: x.name }))} />
          <Pick label={t("inbox-plus.channel")} value={filter.channelId} onChange={(channelId) => setFilter({ channelId })} any={t("inbox-plus.anyChannel")}
            options={channels.map((x) => ({ value: x.id, label: `${x.name} · ${platformLabel(x.platform)}` }))} />
        </div>
        <div className="space-y-1">
          <Label htmlFor="filter-label" className="text-xs text-muted-foreground">{t("inbox-plus.labels")}</Label>
          <Input id="filter-label" value={label} placeholder={t("inbox-plus.labelPlaceholder")} className="h-8 text-xs"
            onChange={(e) => setLabel(e.target.value)}
            onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); addLabel(label); } }} />
          {suggestions.length > 0 && (
            <div className="flex flex-wrap gap-1 pt-1">
              {suggestions.map((l) => (
                <button key={l} type="button" onClick={() => addLabel(l)} className="rounded-full border px-2 py-0.5 text-[11px] text-muted-foreground hover:bg-muted focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">+ {l}</button>
              ))}
            </div>
          )}
        </div>
        <fieldset className="space-y-1">
          <legend className="text-xs text-muted-foreground">{t("inbox-plus.lastActivity")}</legend>
          <div className="grid grid-cols-2 gap-2">
            <Input type="date" aria-label={t("inbox-plus.from")} value={filter.since} max={filter.until || undefined} className="h-8 text-xs" onChange={(e) => setFilter({ since: e.target.value })} />
            <Input type="date" aria-label={t("inbox-plus.to")} value={filter.until} min={filter.since || undefined} className="h-8 text-xs" onChange={(e) => setFilter({ until: e.target.value })} />
          </div>
        </fieldset>
        <div className="flex items-center justify-between border-t pt-3">
          <label className="flex items-center gap-2 text-xs">
            <Checkbox checked={filter.unanswered} onCheckedChange={(v) => setFilter({ unanswered: v === true })} /> {t("inbox.unanswered")}
          </label>
          <Button variant="ghost" size="sm" className="h-7 text-xs" disabled={count === 0}
            onClick={() => setFilter({ ...DEFAULT_FILTER, tab: filter.tab, status: filter.status, platform: filter.platform, text: filter.text })}>
            {t("inbox-plus.clearFilters")}
          </Button>
        </div>
      </PopoverContent>
    </Popover>
  );
}

function Chip({ children, onRemove, label }: { children: ReactNode; onRemove: () => void; label: string }) {
  return (
    <span className="inline-flex items-center gap-1 rounded-full border bg-secondary/60 py-0.5 pl-2 pr-0.5 text-[11px] font-medium" data-chip="">
      {children}
      <button type="button" onClick={onRemove} aria-label={label} className="rounded-full p-0.5 text-muted-foreground hover:bg-background hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
        <X className="size-3" aria-hidden />
      </button>
    </span>
  );
}

export function FilterChips() {
  const { t, i18n } = useTranslation();
  const filter = useUi((s) => s.filter);
  const setFilter = useUi((s) => s.setFilter);
  const { people, teams, channels } = useDirectory();
  const day = (d: string) => new Date(`${d}T12:00:00`).toLocaleDateString(i18n.language, { day: "numeric", month: "short" });
  const chips: { key: string; text: string; clear: () => void }[] = [];
  if (filter.priority) chips.push({ key: "priority", text: t(`priority.${filter.priority}`), clear: () => setFilter({ priority: "" }) });
  if (filter.tab === "all" && filter.assigneeId)
    chips.push({ key: "assignee", text: people.find((p) => p.id === filter.assigneeId)?.name ?? t("inbox-plus.assignee"), clear: () => setFilter({ assigneeId: "" }) });
  if (filter.teamId) chips.push({ key: "team", text: teams.find((x) => x.id === filter.teamId)?.name ?? t("inbox-plus.team"), clear: () => setFilter({ teamId: "" }) });
  if (filter.channelId) chips.push({ key: "channel", text: channels.find((x) => x.id === filter.channelId)?.name ?? t("inbox-plus.channel"), clear: () => setFilter({ channelId: "" }) });
  for (const l of filter.labels) chips.push({ key: `label-${l}`, text: `#${l}`, clear: () => setFilter({ labels: filter.labels.filter((x) => x !== l) }) });
  if (filter.since || filter.until)
    chips.push({ key: "dates", text: `${filter.since ? day(filter.since) : "…"} – ${filter.until ? day(filter.until) : "…"}`, clear: () => setFilter({ since: "", until: "" }) });
  if (filter.unanswered) chips.push({ key: "unanswered", text: t("inbox.unanswered"), clear: () => setFilter({ unanswered: false }) });
  if (chips.length === 0) return null;
  return (
    <div className="flex flex-wrap gap-1" aria-label={t("inbox-plus.activeFilters")} role="group">
      {chips.map((c) => <Chip key={c.key} onRemove={c.clear} label={t("inbox-plus.removeFilter", { name: c.text })}>{c.text}</Chip>)}
    </div>
  );
}
