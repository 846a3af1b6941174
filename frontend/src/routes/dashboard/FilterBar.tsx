// The dashboard's filters: time range, platform, team and agent, kept in the URL (shareable, and
// the back button undoes a change).
import { CalendarRange, RotateCcw } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { PLATFORMS, RANGES, DEFAULT_DASHBOARD_FILTER, type DashboardFilter, type RangeKey } from "./model";

const ANY = "__any";

export interface Choice { id: string; name: string }

export function FilterBar({ filter, onChange, teams, agents }: { filter: DashboardFilter; onChange: (patch: Partial<DashboardFilter>) => void; teams: Choice[]; agents: Choice[] }) {
  const { t } = useTranslation();
  const changed = JSON.stringify(filter) !== JSON.stringify(DEFAULT_DASHBOARD_FILTER);
  const pick = (key: "platform" | "team" | "agent") => (v: string) => onChange({ [key]: v === ANY ? "" : v });
  return (
    <div role="group" aria-label={t("dashboard.filters.label")} className="flex flex-wrap items-center gap-2">
      <Select value={filter.range} onValueChange={(v) => onChange({ range: v as RangeKey })}>
        <SelectTrigger aria-label={t("dashboard.filters.range")} className="h-9 w-44 text-sm">
          <CalendarRange className="size-4 text-muted-foreground" aria-hidden />
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          {RANGES.map((r) => (
            <SelectItem key={r} value={r}>{t(`dashboard.filters.ranges.${r}`)}</SelectItem>
          ))}
        </SelectContent>
      </Select>
      <Select value={filter.platform || ANY} onValueChange={pick("platform")}>
        <SelectTrigger aria-label={t("dashboard.filters.platform")} className="h-9 w-48 text-sm">
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          <SelectItem value={ANY}>{t("dashboard.filters.anyPlatform")}</SelectItem>
          {PLATFORMS.map((p) => (
            <SelectItem key={p} value={p}>{platformName(p)}</SelectItem>
          ))}
        </SelectContent>
      </Select>
      <Select value={filter.team || ANY} onValueChange={pick("team")}>
        <SelectTrigger aria-label={t("dashboard.filters.team")} className="h-9 w-40 text-sm">
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          <SelectItem value={ANY}>{t("dashboard.filters.anyTeam")}</SelectItem>
          {withUnknown(teams, filter.team, t("dashboard.charts.nobody")).map((x) => (
            <SelectItem key={x.id} value={x.id}>{x.name}</SelectItem>
          ))}
        </SelectContent>
      </Select>
      <Select value={filter.agent || ANY} onValueChange={pick("agent")}>
        <SelectTrigger aria-label={t("dashboard.filters.agent")} className="h-9 w-40 text-sm">
          <SelectValue />
        </SelectTrigger>
        <SelectContent>
          <SelectItem value={ANY}>{t("dashboard.filters.anyAgent")}</SelectItem>
          {withUnknown(agents, filter.agent, t("dashboard.charts.nobody")).map((x) => (
            <SelectItem key={x.id} value={x.id}>{x.name}</SelectItem>
          ))}
        </SelectContent>
      </Select>
      {changed && (
        <Button variant="ghost" size="sm" onClick={() => onChange(DEFAULT_DASHBOARD_FILTER)}>
          <RotateCcw aria-hidden /> {t("dashboard.filters.reset")}
        </Button>
      )}
    </div>
  );
}

/** The choices, plus the chosen one when it is not among them (a link to someone since removed):
 * the select then still says what is filtered, and "All" undoes it. */
export function withUnknown(choices: Choice[], chosen: string, unknown: string): Choice[] {
  return !chosen || choices.some((c) => c.id === chosen) ? choices : [...choices, { id: chosen, name: unknown }];
}

/** "WHATSAPP" → "WhatsApp". */
export function platformName(p: string): string {
  const special: Record<string, string> = { WHATSAPP: "WhatsApp", WEBCHAT: "Webchat", SMS: "SMS", LINE: "LINE", WECHAT: "WeChat", EMAIL: "E-mail" };
  return special[p] ?? p.charAt(0) + p.slice(1).toLowerCase();
}
