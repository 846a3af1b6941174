// An admin changes a user's role, teams and "sees all conversations" grant (updateUser).
import { zodResolver } from "@hookform/resolvers/zod";
import { Eye } from "lucide-react";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import { PEOPLE_UPDATE_USER } from "@/api/ops/admin-people";
import { SidePanel } from "@/components/admin-people/SidePanel";
import { Button } from "@/components/ui/button";
import { Switch } from "@/components/ui/switch";
import { RoleField, TeamChecklist } from "./fields";
import { accessSchema, peopleError, type AccessForm, type PersonRow } from "./logic";

export function AccessPanel({ user, teams, self, onClose, onSaved }: { user: PersonRow; teams: readonly { id: string; name: string }[]; self: boolean; onClose: () => void; onSaved: () => void }) {
  const { t } = useTranslation();
  const [, update] = useMutation(PEOPLE_UPDATE_USER);
  const [failure, setFailure] = useState<string | null>(null);
  const { control, handleSubmit, formState } = useForm<AccessForm>({
    resolver: zodResolver(accessSchema),
    defaultValues: { role: (user.role ?? "AGENT") as AccessForm["role"], teamIds: user.teamIds ?? [], seesAllConversations: !!user.seesAllConversations },
  });
  const submit = handleSubmit(async (values) => {
    setFailure(null);
    const input = { ...values, ...(self ? { role: undefined } : {}) };
    const r = await update({ userId: user.id, input });
    if (r.error) return setFailure(peopleError(r.error, t, "other"));
    onSaved();
    onClose();
  });

  return (
    <SidePanel
      open
      onOpenChange={(open) => !open && onClose()}
      title={t("people.edit.title", { name: user.name })}
      description={t("people.edit.description")}
      closeLabel={t("people.users.close")}
      footer={
        <>
          <Button variant="outline" onClick={onClose}>{t("people.users.cancel")}</Button>
          <Button type="submit" form="people-access" disabled={formState.isSubmitting}>
            {formState.isSubmitting ? t("people.edit.saving") : t("people.edit.save")}
          </Button>
        </>
      }
    >
      <form id="people-access" onSubmit={submit} className="space-y-6">
        <div>
          <Controller control={control} name="role" render={({ field }) => <RoleField value={field.value} onChange={field.onChange} disabled={self} />} />
          {self && <p className="mt-1.5 text-xs text-muted-foreground">{t("people.edit.self")}</p>}
        </div>
        <Controller
          control={control}
          name="teamIds"
          render={({ field }) => <TeamChecklist teams={teams} value={field.value} onChange={field.onChange} legend={t("people.invite.teams")} />}
        />
        <Controller
          control={control}
          name="seesAllConversations"
          render={({ field }) => (
            <div className="flex items-start justify-between gap-4 rounded-lg border border-border px-3 py-3">
              <div className="flex gap-3">
                <Eye className="mt-0.5 size-4 text-muted-foreground" aria-hidden />
                <div>
                  <label htmlFor="people-sees-all" className="block text-sm font-medium">{t("people.edit.seesAll")}</label>
                  <p id="people-sees-all-hint" className="text-xs text-muted-foreground">{t("people.users.seesAllHint")}</p>
                </div>
              </div>
              <Switch id="people-sees-all" aria-describedby="people-sees-all-hint" checked={field.value} onCheckedChange={field.onChange} />
            </div>
          )}
        />
        {failure && <p role="alert" className="rounded-md bg-danger-soft/60 px-3 py-2 text-sm text-danger-strong">{failure}</p>}
      </form>
    </SidePanel>
  );
}
