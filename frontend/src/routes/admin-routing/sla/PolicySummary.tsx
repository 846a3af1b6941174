// The editor's side panel: the policy as it will be saved, in one glance, and what saving does.
import { CalendarOff, Clock, Globe2, Info, Target, Users } from "lucide-react";
import { useTranslation } from "react-i18next";
import { platformLabel } from "@/components/PlatformIcon";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { ANY } from "../Choice";
import { shortDuration, toSeconds } from "../duration";
import { summarizeWeek, type Day } from "../hours";
import { TARGETS, type PolicyForm } from "./form";
import type { TeamRef } from "./types";

const K = "admin-routing.sla";

export function PolicySummary({ values, teams, editing }: { values: PolicyForm; teams: TeamRef[]; editing: boolean }) {
  const { t } = useTranslation();
  const scope = [
    values.teamId !== ANY && (teams.find((x) => x.id === values.teamId)?.name ?? "—"),
    values.priority !== ANY && t(`${K}.priorities.${values.priority}`),
    values.platform !== ANY && platformLabel(values.platform),
  ].filter(Boolean) as string[];
  const targets = TARGETS.filter((k) => values[k].on && values[k].value > 0);
  const hours = values.alwaysOpen ? t(`${K}.alwaysOpen`) : summarizeWeek(values.week, (d: Day) => t(`${K}.days.${d}`)) || "—";
  return (
    <Card>
      <CardHeader title={t(`${K}.form.summary`)} />
      <CardBody className="space-y-3 text-sm">
        <p className="flex gap-2">
          <Users className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
          <span>{scope.length ? scope.join(" · ") : t(`${K}.everyone`)}</span>
        </p>
        <div className="flex gap-2">
          <Target className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
          {targets.length ? (
            <dl className="grid flex-1 grid-cols-[1fr_auto] gap-x-3 gap-y-0.5">
              {targets.map((k) => (
                <div key={k} className="contents">
                  <dt className="text-muted-foreground">{t(`${K}.${k}`)}</dt>
                  <dd className="text-right font-medium tabular-nums">{shortDuration(toSeconds(values[k].value, values[k].unit))}</dd>
                </div>
              ))}
            </dl>
          ) : (
            <span className="text-muted-foreground">{t(`${K}.form.noTargets`)}</span>
          )}
        </div>
        <p className="flex gap-2">
          <Clock className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
          <span>{hours}</span>
        </p>
        <p className="flex gap-2">
          <Globe2 className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
          <span className="break-all">{values.timezone || "—"}</span>
        </p>
        <p className="flex gap-2">
          <CalendarOff className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
          <span>{values.holidays.length ? t(`${K}.holidays`, { count: values.holidays.length }) : t(`${K}.form.noHolidays`)}</span>
        </p>
        <p className="flex gap-2 rounded-md bg-info-soft p-2.5 text-xs text-info-strong">
          <Info className="mt-0.5 size-3.5 shrink-0" aria-hidden />
          <span>{editing ? t(`${K}.form.editNote`) : t(`${K}.form.newNote`)}</span>
        </p>
      </CardBody>
    </Card>
  );
}
