// Create an API key: a name and the scopes it may use; the key itself is shown once afterwards.
import { zodResolver } from "@hookform/resolvers/zod";
import { Controller, useForm } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import { z } from "zod";
import type { AdminCreateApiKeyMutation, AdminCreateApiKeyMutationVariables, ApiKeyScope } from "@/api/graphql.generated";
import { ADMIN_CREATE_API_KEY } from "@/api/ops/integrations";
import { Button } from "@/components/ui/button";
import { Checkbox } from "@/components/ui/checkbox";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { useState } from "react";
import { OneTimeSecret, serverProblem } from "../common";
import { SCOPE_GROUPS, scopeName, scopesIn } from "./scopes";

// resolvers/api_keys.create_key: a name of 1 to 120 characters, at least one scope.
export const keySchema = z.object({
  name: z.string().trim().min(1, "name").max(120, "nameLong"),
  scopes: z.array(z.string()).min(1, "scopes"),
});
type Values = z.infer<typeof keySchema>;

export function CreateKeyDialog({ open, onOpenChange, onCreated }: { open: boolean; onOpenChange: (open: boolean) => void; onCreated: () => void }) {
  const { t } = useTranslation();
  const [created, setCreated] = useState<string | null>(null);
  const [{ fetching, error }, create] = useMutation<AdminCreateApiKeyMutation, AdminCreateApiKeyMutationVariables>(ADMIN_CREATE_API_KEY);
  const form = useForm<Values>({ resolver: zodResolver(keySchema), defaultValues: { name: "", scopes: [] } });
  const close = (next: boolean) => {
    if (!next) {
      setCreated(null);
      form.reset();
    }
    onOpenChange(next);
  };
  const submit = form.handleSubmit(async (values) => {
    const result = await create({ name: values.name.trim(), scopes: values.scopes as ApiKeyScope[] });
    if (result.data) {
      setCreated(result.data.createApiKey.token);
      onCreated();
    }
  });
  const msg = (m: string | undefined) => (m ? t(`integrations.apiKeys.errors.${m}`) : undefined);
  return (
    <Dialog open={open} onOpenChange={close}>
      <DialogContent
        title={created ? t("integrations.apiKeys.createdTitle") : t("integrations.apiKeys.createTitle")}
        description={created ? undefined : t("integrations.apiKeys.createDescription")}
        closeLabel={t("integrations.common.close")}
      >
        {created ? (
          <div className="space-y-4">
            <OneTimeSecret value={created} label={t("integrations.apiKeys.yourKey")} warning={t("integrations.apiKeys.onceWarning")} />
            <p className="text-xs text-muted-foreground">{t("integrations.apiKeys.howToUse")}</p>
            <div className="flex justify-end">
              <Button onClick={() => close(false)}>{t("integrations.apiKeys.done")}</Button>
            </div>
          </div>
        ) : (
          <form onSubmit={submit} className="space-y-4" noValidate>
            <Field label={t("integrations.apiKeys.name")} hint={t("integrations.apiKeys.nameHint")} error={msg(form.formState.errors.name?.message)}>
              <Input autoFocus {...form.register("name")} placeholder="Zapier sync" />
            </Field>
            <Controller
              control={form.control}
              name="scopes"
              render={({ field, fieldState }) => (
                <fieldset aria-describedby={fieldState.error ? "scopes-error" : undefined}>
                  <legend className="text-sm font-medium">{t("integrations.apiKeys.scopes")}</legend>
                  <div className="mt-2 grid max-h-64 grid-cols-2 gap-x-4 gap-y-3 overflow-y-auto rounded-lg border border-border p-3">
                    {SCOPE_GROUPS.map((group) => (
                      <div key={group}>
                        <p className="mb-1 text-xs font-semibold uppercase tracking-wide text-muted-foreground">{t(`integrations.apiKeys.groups.${group}`)}</p>
                        <ul className="space-y-1">
                          {scopesIn(group).map((scope) => {
                            const id = `scope-${scope}`;
                            const checked = field.value.includes(scope);
                            return (
                              <li key={scope} className="flex items-center gap-2">
                                <Checkbox
                                  id={id}
                                  checked={checked}
                                  onCheckedChange={(on) => field.onChange(on ? [...field.value, scope] : field.value.filter((s) => s !== scope))}
                                />
                                <label htmlFor={id} className="font-mono text-xs">
                                  {scopeName(scope)}
                                </label>
                              </li>
                            );
                          })}
                        </ul>
                      </div>
                    ))}
                  </div>
                  {fieldState.error && (
                    <p id="scopes-error" role="alert" className="mt-1.5 text-xs font-medium text-destructive">
                      {msg(fieldState.error.message)}
                    </p>
                  )}
                </fieldset>
              )}
            />
            {error && (
              <p role="alert" className="text-sm text-destructive">
                {serverProblem(error, t)}
              </p>
            )}
            <div className="flex justify-end gap-2">
              <Button type="button" variant="outline" onClick={() => close(false)}>
                {t("integrations.common.cancel")}
              </Button>
              <Button type="submit" disabled={fetching}>
                {fetching ? t("integrations.apiKeys.creating") : t("integrations.apiKeys.create")}
              </Button>
            </div>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
