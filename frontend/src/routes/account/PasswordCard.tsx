// Change your password (changeMyPassword). The server ends every session of the account and
// answers with a new one for this browser, which is adopted at once.
import { zodResolver } from "@hookform/resolvers/zod";
import { Loader2, ShieldAlert } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { ACCOUNT_CHANGE_PASSWORD } from "@/api/ops/account";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { useServices } from "@/services";
import { AccountError, accountRequest, type SessionPayload } from "./request";
import { changePasswordSchema } from "./schemas";
import { Saved } from "./Section";
import type { z } from "zod";

type Values = z.infer<typeof changePasswordSchema>;
const EMPTY: Values = { current: "", password: "", confirm: "" };

export function PasswordCard() {
  const { t } = useTranslation();
  const { session } = useServices();
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const form = useForm<Values>({ resolver: zodResolver(changePasswordSchema), defaultValues: EMPTY });
  const msg = (m: string | undefined) => (m ? t(`account.errors.${m}`) : undefined);

  const submit = form.handleSubmit(async ({ current, password }) => {
    setSaved(false);
    setError(null);
    try {
      const data = await accountRequest<{ changeMyPassword: SessionPayload }>(
        ACCOUNT_CHANGE_PASSWORD,
        { currentPassword: current, newPassword: password },
        await session.accessToken(),
      );
      session.adopt(data.changeMyPassword);
      form.reset(EMPTY);
      setSaved(true);
    } catch (e) {
      if (e instanceof AccountError && e.code === "BAD_USER_INPUT" && e.field === "currentPassword") {
        form.setError("current", { message: "currentWrong" }, { shouldFocus: true });
      } else if (e instanceof AccountError && e.code === "BAD_USER_INPUT" && e.field === "newPassword") {
        form.setError("password", { message: e.message.includes("most") ? "passwordLong" : "passwordShort" }, { shouldFocus: true });
      } else {
        setError(e);
      }
    }
  });

  const busy = form.formState.isSubmitting;
  return (
    <form onSubmit={submit} noValidate className="space-y-5" aria-label={t("account.password.title")}>
      <div className="flex items-start gap-3 rounded-lg border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
        <ShieldAlert className="mt-0.5 size-4 shrink-0" aria-hidden />
        <p>{t("account.password.revokes")}</p>
      </div>
      {error ? (
        <div className="rounded-md border border-red-200 bg-red-50">
          <ErrorState error={error} compact />
        </div>
      ) : null}
      <Field label={t("account.password.current")} error={msg(form.formState.errors.current?.message)} className="sm:max-w-[calc(50%-0.625rem)]">
        <Input type="password" autoComplete="current-password" {...form.register("current")} />
      </Field>
      <div className="grid gap-5 sm:grid-cols-2">
        <Field label={t("account.password.new")} error={msg(form.formState.errors.password?.message)}>
          <Input type="password" autoComplete="new-password" {...form.register("password")} />
        </Field>
        <Field label={t("account.password.confirm")} error={msg(form.formState.errors.confirm?.message)}>
          <Input type="password" autoComplete="new-password" {...form.register("confirm")} />
        </Field>
      </div>
      <div className="flex items-center justify-end gap-4 border-t border-border pt-5">
        {saved && <Saved>{t("account.password.saved")}</Saved>}
        <Button type="submit" disabled={busy}>
          {busy && <Loader2 className="animate-spin" aria-hidden />}
          {busy ? t("account.password.submitting") : t("account.password.submit")}
        </Button>
      </div>
    </form>
  );
}
