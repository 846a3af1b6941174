// Making a team from the rule dialog: a rule needs a team, and a new account has none yet.
import { Plus } from "lucide-react";
import { useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { ADMIN_ROUTING_CREATE_TEAM } from "@/api/ops/admin-routing";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { useMutate } from "../useAdminData";

const K = "admin-routing.routing";

export function NewTeam({ onCreated }: { onCreated: (team: { id: string; name: string }) => void }) {
  const { t } = useTranslation();
  const mutate = useMutate();
  const id = useId();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [invalid, setInvalid] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (!open) {
    return (
      <Button type="button" variant="link" size="sm" className="-mt-2 h-auto px-0" onClick={() => setOpen(true)}>
        <Plus aria-hidden /> {t(`${K}.newTeam`)}
      </Button>
    );
  }
  const create = async () => {
    if (!name.trim()) {
      setInvalid(true);
      return;
    }
    setBusy(true);
    setFailure(null);
    try {
      const r = await mutate<{ saveTeam: { id: string; name: string } }>(ADMIN_ROUTING_CREATE_TEAM, { name: name.trim() });
      onCreated(r.saveTeam);
      setOpen(false);
      setName("");
    } catch (e) {
      setFailure(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="rounded-lg border border-dashed border-border p-3">
      <label htmlFor={id} className="block text-sm font-medium">{t(`${K}.newTeamName`)}</label>
      <div className="mt-1.5 flex gap-2">
        <Input
          id={id}
          value={name}
          autoFocus
          aria-invalid={invalid ? true : undefined}
          aria-describedby={`${id}-hint`}
          onChange={(e) => {
            setName(e.target.value);
            setInvalid(false);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              e.preventDefault();
              void create();
            }
          }}
        />
        <Button type="button" variant="secondary" disabled={busy} onClick={() => void create()}>
          {t(`${K}.createTeam`)}
        </Button>
      </div>
      <p id={`${id}-hint`} className={invalid ? "mt-1 text-xs font-medium text-destructive" : "mt-1 text-xs text-muted-foreground"} role={invalid ? "alert" : undefined}>
        {invalid ? t(`${K}.errors.teamName`) : t(`${K}.newTeamHint`)}
      </p>
      {failure != null && <ErrorState error={failure} compact />}
    </div>
  );
}
