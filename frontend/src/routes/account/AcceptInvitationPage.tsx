// /accept-invitation?token=… (the invitation e-mail's link, resolvers/users.invite_user): the
// invited person chooses a password (and may correct their name), and is signed in.
import { zodResolver } from "@hookform/resolvers/zod";
import { Loader2, MailCheck } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useNavigate, useSearchParams } from "react-router";
import { ACCOUNT_ACCEPT_INVITATION, ACCOUNT_UPDATE_PROFILE } from "@/api/ops/account";
import type { Session } from "@/api/session";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { LinkProblem, PublicFrame } from "./PublicFrame";
import { accountRequest, isLinkError, type SessionPayload } from "./request";
import { collapseName, invitationSchema } from "./schemas";
import type { z } from "zod";

type Values = z.infer<typeof invitationSchema>;

export default function AcceptInvitationPage({ session }: { session: Session }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const token = useSearchParams()[0].get("token") ?? "";
  const [error, setError] = useState<unknown>(null);
  const form = useForm<Values>({ resolver: zodResolver(invitationSchema), defaultValues: { name: "", password: "", confirm: "" } });
  const msg = (m: string | undefined) => (m ? t(`account.errors.${m}`) : undefined);

  const submit = form.handleSubmit(async ({ name, password }) => {
    setError(null);
    try {
      const { acceptInvitation: payload } = await accountRequest<{ acceptInvitation: SessionPayload }>(ACCOUNT_ACCEPT_INVITATION, { token, password });
      const wanted = collapseName(name);
      if (wanted && wanted !== payload.user.name) {
        // The account works already: a refused rename must not keep them out (My account has it too).
        await accountRequest<{ updateMyProfile: { name: string } }>(ACCOUNT_UPDATE_PROFILE, { name: wanted }, payload.accessToken)
          .then((r) => (payload.user = { ...payload.user, name: r.updateMyProfile.name }))
          .catch(() => undefined);
      }
      session.adopt(payload);
      navigate("/inbox", { replace: true });
    } catch (e) {
      setError(e);
    }
  });

  const problem = !token
    ? { title: t("account.invitation.missingTitle"), body: t("account.invitation.missingBody") }
    : isLinkError(error)
      ? { title: t("account.invitation.invalidTitle"), body: t("account.invitation.invalidBody") }
      : null;
  const busy = form.formState.isSubmitting;
  return (
    <PublicFrame title={t("account.invitation.title")} subtitle={t("account.invitation.subtitle")} icon={<MailCheck />}>
      {problem ? (
        <LinkProblem title={problem.title} body={problem.body} />
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate aria-label={t("account.invitation.title")}>
          {error ? (
            <div className="rounded-md border border-red-200 bg-red-50">
              <ErrorState error={error} compact />
            </div>
          ) : null}
          <Field label={t("account.invitation.name")} hint={t("account.invitation.nameHint")} error={msg(form.formState.errors.name?.message)}>
            <Input autoComplete="name" {...form.register("name")} />
          </Field>
          <Field label={t("account.invitation.password")} hint={t("account.invitation.passwordHint")} error={msg(form.formState.errors.password?.message)}>
            <Input type="password" autoComplete="new-password" autoFocus {...form.register("password")} />
          </Field>
          <Field label={t("account.invitation.confirm")} error={msg(form.formState.errors.confirm?.message)}>
            <Input type="password" autoComplete="new-password" {...form.register("confirm")} />
          </Field>
          <Button type="submit" className="w-full" disabled={busy}>
            {busy && <Loader2 className="animate-spin" aria-hidden />}
            {busy ? t("account.invitation.submitting") : t("account.invitation.submit")}
          </Button>
        </form>
      )}
    </PublicFrame>
  );
}
