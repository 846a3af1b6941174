// Invite a user: name, e-mail, role and teams; then what happened (the e-mail went out, until when
// the link works), with a way to invite the next person.
import { zodResolver } from "@hookform/resolvers/zod";
import { MailCheck } from "lucide-react";
import { useState } from "react";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { PeopleInviteMutation, PeopleUsersQuery } from "@/api/graphql.generated";
import { PEOPLE_INVITE } from "@/api/ops/admin-people";
import { SidePanel } from "@/components/admin-people/SidePanel";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { RoleField, TeamChecklist } from "./fields";
import { inviteSchema, peopleError, type InviteForm } from "./logic";

type Invited = PeopleInviteMutation["inviteUser"];
const EMPTY: InviteForm = { name: "", email: "", role: "AGENT", teamIds: [] };

export function InvitePanel({ open, onOpenChange, teams, onInvited }: { open: boolean; onOpenChange: (open: boolean) => void; teams: PeopleUsersQuery["teams"]; onInvited: () => void }) {
  const { t, i18n } = useTranslation();
  const [, invite] = useMutation(PEOPLE_INVITE);
  const [sent, setSent] = useState<Invited | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm<InviteForm>({ resolver: zodResolver(inviteSchema), defaultValues: EMPTY });
  const { register, handleSubmit, control, formState, reset } = form;

  const close = (next: boolean) => {
    onOpenChange(next);
    if (!next) {
      setSent(null);
      setFailure(null);
      reset(EMPTY);
    }
  };
  const submit = handleSubmit(async (values) => {
    setFailure(null);
    const r = await invite({ input: values });
    if (r.error || !r.data) return setFailure(peopleError(r.error, t, "invite"));
    setSent((r.data as PeopleInviteMutation).inviteUser);
    onInvited();
  });
  const err = (m?: string) => (m ? t(`people.${m}`) : undefined);

  return (
    <SidePanel
      open={open}
      onOpenChange={close}
      title={t("people.invite.title")}
      description={t("people.invite.description")}
      closeLabel={t("people.users.close")}
      footer={
        sent ? (
          <>
            <Button variant="outline" onClick={() => { setSent(null); reset(EMPTY); }}>{t("people.invite.another")}</Button>
            <Button onClick={() => close(false)}>{t("people.invite.done")}</Button>
          </>
        ) : (
          <>
            <Button variant="outline" onClick={() => close(false)}>{t("people.users.cancel")}</Button>
            <Button type="submit" form="people-invite" disabled={formState.isSubmitting}>
              {formState.isSubmitting ? t("people.invite.sending") : t("people.invite.send")}
            </Button>
          </>
        )
      }
    >
      {sent ? (
        <div role="status" className="flex flex-col items-center gap-3 py-8 text-center" data-invited={sent.email ?? ""}>
          <span className="flex size-12 items-center justify-center rounded-full bg-success-soft text-success-strong">
            <MailCheck className="size-6" aria-hidden />
          </span>
          <p className="text-base font-semibold">{t("people.invite.sentTitle")}</p>
          <p className="max-w-sm text-sm text-muted-foreground">
            {t("people.invite.sentBody", {
              email: sent.email,
              until: sent.invitedUntil ? new Date(sent.invitedUntil).toLocaleString(i18n.language, { dateStyle: "medium", timeStyle: "short" }) : "—",
            })}
          </p>
        </div>
      ) : (
        <form id="people-invite" onSubmit={submit} noValidate className="space-y-5">
          <Field label={t("people.invite.name")} error={err(formState.errors.name?.message)}>
            <Input autoComplete="off" {...register("name")} />
          </Field>
          <Field label={t("people.invite.email")} error={err(formState.errors.email?.message)}>
            <Input type="email" autoComplete="off" {...register("email")} />
          </Field>
          <Controller control={control} name="role" render={({ field }) => <RoleField value={field.value} onChange={field.onChange} />} />
          <Controller
            control={control}
            name="teamIds"
            render={({ field }) => <TeamChecklist teams={teams} value={field.value} onChange={field.onChange} legend={t("people.invite.teams")} />}
          />
          {failure && (
            <p role="alert" className="rounded-md border border-danger-soft bg-danger-soft/50 px-3 py-2 text-sm text-danger-strong">
              {failure}
            </p>
          )}
        </form>
      )}
    </SidePanel>
  );
}
