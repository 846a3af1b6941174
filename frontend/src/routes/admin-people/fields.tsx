// Form parts the people panels share: a role picker with what each role may do, and a checklist
// of teams.
import { Users } from "lucide-react";
import { useId } from "react";
import { useTranslation } from "react-i18next";
import { Checkbox } from "@/components/ui/checkbox";
import { cn } from "@/lib/utils";
import { ROLES } from "./logic";

export function RoleField({ value, onChange, disabled }: { value: string; onChange: (role: (typeof ROLES)[number]) => void; disabled?: boolean }) {
  const { t } = useTranslation();
  const name = useId();
  return (
    <fieldset disabled={disabled}>
      <legend className="mb-1.5 text-sm font-medium">{t("people.invite.role")}</legend>
      <div className="grid gap-2">
        {ROLES.map((role) => (
          <label
            key={role}
            className={cn(
              "flex cursor-pointer items-start gap-3 rounded-lg border border-border px-3 py-2.5 transition hover:bg-muted/40 has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-ring",
              value === role && "border-primary bg-primary/5",
            )}
          >
            <input type="radio" name={name} value={role} checked={value === role} onChange={() => onChange(role)} className="mt-1 accent-[var(--color-primary)]" />
            <span>
              <span className="block text-sm font-medium">{t(`people.role.${role}`)}</span>
              <span className="block text-xs text-muted-foreground">{t(`people.roleHint.${role}`)}</span>
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function TeamChecklist({ teams, value, onChange, legend }: { teams: readonly { id: string; name: string }[]; value: string[]; onChange: (ids: string[]) => void; legend: string }) {
  const { t } = useTranslation();
  const id = useId();
  return (
    <fieldset>
      <legend className="mb-1 text-sm font-medium">{legend}</legend>
      <p className="mb-2 text-xs text-muted-foreground">{t("people.invite.teamsHint")}</p>
      {teams.length === 0 ? (
        <p className="flex items-center gap-2 rounded-lg border border-dashed border-border px-3 py-3 text-sm text-muted-foreground">
          <Users className="size-4" aria-hidden /> {t("people.invite.noTeams")}
        </p>
      ) : (
        <ul className="divide-y divide-border rounded-lg border border-border">
          {teams.map((team) => {
            const checked = value.includes(team.id);
            return (
              <li key={team.id} className="flex items-center gap-3 px-3 py-2">
                <Checkbox
                  id={`${id}-${team.id}`}
                  checked={checked}
                  onCheckedChange={(on) => onChange(on === true ? [...value, team.id] : value.filter((v) => v !== team.id))}
                />
                <label htmlFor={`${id}-${team.id}`} className="flex-1 cursor-pointer text-sm">
                  {team.name}
                </label>
              </li>
            );
          })}
        </ul>
      )}
    </fieldset>
  );
}
