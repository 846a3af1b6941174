// /reset-password?token=… (the reset e-mail's link, resolvers/users.request_password_reset): a
// new password; every session of the account ends, so the person signs in again with it.
import { zodResolver } from "@hookform/resolvers/zod";
import { CircleCheck, Loader2, LockKeyhole } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { ACCOUNT_RESET_PASSWORD } from "@/api/ops/account";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { LinkProblem, PublicFrame } from "./PublicFrame";
import { accountRequest, isLinkError } from "./request";
import { newPasswordSchema } from "./schemas";
import type { z } from "zod";

type Values = z.infer<typeof newPasswordSchema>;

export default function ResetPasswordPage() {
  const { t } = useTranslation();
  const token = useSearchParams()[0].get("token") ?? "";
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const form = useForm<Values>({ resolver: zodResolver(newPasswordSchema), defaultValues: { password: "", confirm: "" } });
  const msg = (m: string | undefined) => (m ? t(`account.errors.${m}`) : undefined);

  const submit = form.handleSubmit(async ({ password }) => {
    setError(null);
    try {
      await accountRequest<{ resetPassword: boolean }>(ACCOUNT_RESET_PASSWORD, { token, password });
      setDone(true);
    } catch (e) {
      setError(e);
    }
  });

  if (done) {
    return (
      <PublicFrame title={t("account.reset.doneTitle")} icon={<CircleCheck />} back={false}>
        <p role="status" className="text-sm text-muted-foreground">{t("account.reset.doneBody")}</p>
        <Button asChild className="mt-6 w-full">
          <Link to="/login">{t("account.reset.signIn")}</Link>
        </Button>
      </PublicFrame>
    );
  }
  const problem = !token
    ? { title: t("account.reset.missingTitle"), body: t("account.reset.missingBody") }
    : isLinkError(error)
      ? { title: t("account.reset.invalidTitle"), body: t("account.reset.invalidBody") }
      : null;
  const busy = form.formState.isSubmitting;
  return (
    <PublicFrame title={t("account.reset.title")} subtitle={t("account.reset.subtitle")} icon={<LockKeyhole />}>
      {problem ? (
        <LinkProblem
          title={problem.title}
          body={problem.body}
          action={
            <Button asChild variant="outline" size="sm">
              <Link to="/forgot-password">{t("account.reset.requestNew")}</Link>
            </Button>
          }
        />
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate aria-label={t("account.reset.title")}>
          {error ? (
            <div className="rounded-md border border-red-200 bg-red-50">
              <ErrorState error={error} compact />
            </div>
          ) : null}
          <Field label={t("account.reset.password")} hint={t("account.reset.passwordHint")} error={msg(form.formState.errors.password?.message)}>
            <Input type="password" autoComplete="new-password" autoFocus {...form.register("password")} />
          </Field>
          <Field label={t("account.reset.confirm")} error={msg(form.formState.errors.confirm?.message)}>
            <Input type="password" autoComplete="new-password" {...form.register("confirm")} />
          </Field>
          <Button type="submit" className="w-full" disabled={busy}>
            {busy && <Loader2 className="animate-spin" aria-hidden />}
            {busy ? t("account.reset.submitting") : t("account.reset.submit")}
          </Button>
        </form>
      )}
    </PublicFrame>
  );
}
