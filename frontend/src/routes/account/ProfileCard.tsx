// Your name (updateMyProfile: the only part of a profile one changes oneself; e-mail and role are
// an admin's).
import { zodResolver } from "@hookform/resolvers/zod";
import { Loader2 } from "lucide-react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { AccountMeQuery, AccountUpdateProfileMutation, AccountUpdateProfileMutationVariables } from "@/api/graphql.generated";
import { ACCOUNT_UPDATE_PROFILE } from "@/api/ops/account";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { useServices } from "@/services";
import { collapseName, profileSchema } from "./schemas";
import { Saved } from "./Section";
import type { z } from "zod";

type Values = z.infer<typeof profileSchema>;

export function ProfileCard({ me }: { me: AccountMeQuery["me"] }) {
  const { t } = useTranslation();
  const { session } = useServices();
  const [saved, setSaved] = useState(false);
  const [{ error }, update] = useMutation<AccountUpdateProfileMutation, AccountUpdateProfileMutationVariables>(ACCOUNT_UPDATE_PROFILE);
  const form = useForm<Values>({ resolver: zodResolver(profileSchema), defaultValues: { name: me.name } });
  const nameError = form.formState.errors.name?.message;

  const submit = form.handleSubmit(async ({ name }) => {
    setSaved(false);
    const result = await update({ name: collapseName(name) });
    if (result.data) {
      const name = result.data.updateMyProfile.name;
      form.reset({ name });
      if (session.current) session.setUser({ ...session.current.user, name }); // the account menu shows it
      setSaved(true);
    }
  });

  return (
    <form onSubmit={submit} noValidate className="space-y-5" aria-label={t("account.profile.title")}>
      {error && (
        <div className="rounded-md border border-red-200 bg-red-50">
          <ErrorState error={error} compact />
        </div>
      )}
      <div className="grid gap-5 sm:grid-cols-2">
        <Field label={t("account.profile.name")} hint={t("account.profile.nameHint")} error={nameError ? t(`account.errors.${nameError}`) : undefined}>
          <Input autoComplete="name" {...form.register("name", { onChange: () => setSaved(false) })} />
        </Field>
        <Field label={t("account.profile.email")} hint={t("account.profile.emailHint")}>
          <Input value={me.email ?? ""} readOnly className="bg-muted text-muted-foreground" />
        </Field>
      </div>
      <div className="flex items-center justify-end gap-4 border-t border-border pt-5">
        {saved && <Saved>{t("account.profile.saved")}</Saved>}
        <Button type="submit" disabled={!form.formState.isDirty || form.formState.isSubmitting}>
          {form.formState.isSubmitting && <Loader2 className="animate-spin" aria-hidden />}
          {form.formState.isSubmitting ? t("account.profile.saving") : t("account.profile.save")}
        </Button>
      </div>
    </form>
  );
}
