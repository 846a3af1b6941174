// /forgot-password: ask for a reset link. The answer is the same whatever the address
// (requestPasswordReset does not tell who has an account), and so is this page's.
import { zodResolver } from "@hookform/resolvers/zod";
import { KeyRound, Loader2, MailCheck } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { ACCOUNT_REQUEST_RESET } from "@/api/ops/account";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { PublicFrame } from "./PublicFrame";
import { accountRequest } from "./request";
import { forgotSchema } from "./schemas";
import type { z } from "zod";

type Values = z.infer<typeof forgotSchema>;

export default function ForgotPasswordPage() {
  const { t } = useTranslation();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const form = useForm<Values>({ resolver: zodResolver(forgotSchema), defaultValues: { email: "" } });

  const submit = form.handleSubmit(async ({ email }) => {
    setError(null);
    try {
      await accountRequest<{ requestPasswordReset: boolean }>(ACCOUNT_REQUEST_RESET, { email: email.trim() });
      setSentTo(email.trim());
    } catch (e) {
      setError(e);
    }
  });

  if (sentTo !== null) {
    return (
      <PublicFrame title={t("account.forgot.sentTitle")} icon={<MailCheck />}>
        <p role="status" data-reset-sent className="text-sm text-muted-foreground">
          {t("account.forgot.sentBody", { email: sentTo })}
        </p>
        <Button variant="outline" className="mt-6 w-full" onClick={() => { setSentTo(null); form.reset(); }}>
          {t("account.forgot.again")}
        </Button>
      </PublicFrame>
    );
  }
  const busy = form.formState.isSubmitting;
  const emailError = form.formState.errors.email?.message;
  return (
    <PublicFrame title={t("account.forgot.title")} subtitle={t("account.forgot.subtitle")} icon={<KeyRound />}>
      <form onSubmit={submit} className="space-y-4" noValidate aria-label={t("account.forgot.title")}>
        {error ? (
          <div className="rounded-md border border-red-200 bg-red-50">
            <ErrorState error={error} compact />
          </div>
        ) : null}
        <Field label={t("account.forgot.email")} error={emailError ? t(`account.errors.${emailError}`) : undefined}>
          <Input type="email" autoComplete="username" autoFocus {...form.register("email")} />
        </Field>
        <Button type="submit" className="w-full" disabled={busy}>
          {busy && <Loader2 className="animate-spin" aria-hidden />}
          {busy ? t("account.forgot.submitting") : t("account.forgot.submit")}
        </Button>
      </form>
    </PublicFrame>
  );
}
