// The fields of a form drawn from a JSON Schema (schemaForm.ts): a module's configuration on
// Settings → Modules and a module's flow node in the flow builder are both this component.
import type { ReactNode } from "react";
import { Controller, type UseFormReturn } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { Switch } from "@/components/ui/switch";
import { CheckboxGroup, SelectField } from "../common";
import type { FieldSpec, FormValues } from "./schemaForm";

const NONE = "_none";

/** A schemaForm error key ("required", "maxLength:3000") in the reader's language. */
export function useSchemaMessage() {
  const { t } = useTranslation();
  return (m: string | undefined) => {
    if (!m) return undefined;
    const [key, arg] = m.split(/:(.*)/s);
    return t(`integrations.modules.errors.${key}`, { value: arg });
  };
}

export function SchemaFields({ fields, form, idPrefix = "cfg" }: { fields: FieldSpec[]; form: UseFormReturn<FormValues>; idPrefix?: string }) {
  const { t } = useTranslation();
  const message = useSchemaMessage();
  const control = (f: FieldSpec): ReactNode => {
    const error = message(form.formState.errors[f.name]?.message as string | undefined);
    const hint = f.kind === "secret" ? [f.description, t("integrations.modules.secretHint")].filter(Boolean).join(" ") : f.kind === "list" ? [f.description, t("integrations.modules.listHint")].filter(Boolean).join(" ") : f.description;
    const id = `${idPrefix}-${f.name}`;
    const label = (
      <>
        {f.label}
        {!f.required && <span className="ml-1 font-normal text-muted-foreground">{t("integrations.modules.optional")}</span>}
      </>
    );
    if (f.kind === "switch") {
      return (
        <Controller
          key={f.name}
          control={form.control}
          name={f.name}
          render={({ field }) => (
            <div className="flex items-start justify-between gap-4">
              <div>
                <label htmlFor={id} className="text-sm font-medium">{f.label}</label>
                {f.description && <p className="text-xs text-muted-foreground">{f.description}</p>}
              </div>
              <Switch id={id} checked={field.value === true} onCheckedChange={field.onChange} />
            </div>
          )}
        />
      );
    }
    if (f.kind === "multi") {
      return (
        <fieldset key={f.name}>
          <legend className="text-sm font-medium">{label}</legend>
          {f.description && <p className="mb-2 text-xs text-muted-foreground">{f.description}</p>}
          <Controller
            control={form.control}
            name={f.name}
            render={({ field }) => <CheckboxGroup idPrefix={id} mono items={f.options.map((o) => ({ value: o, label: o }))} value={field.value as string[]} onChange={field.onChange} />}
          />
          {error && <p role="alert" className="mt-1.5 text-xs font-medium text-destructive">{error}</p>}
        </fieldset>
      );
    }
    if (f.kind === "select") {
      return (
        <Controller
          key={f.name}
          control={form.control}
          name={f.name}
          render={({ field }) => (
            <SelectField
              label={label}
              hint={hint}
              error={error}
              value={(field.value as string) || NONE}
              onChange={(v) => field.onChange(v === NONE ? "" : v)}
              items={[...(f.required ? [] : [{ value: NONE, label: t("integrations.modules.default") }]), ...f.options.map((o) => ({ value: o, label: o }))]}
            />
          )}
        />
      );
    }
    return (
      <Field key={f.name} label={label} hint={hint} error={error}>
        {f.kind === "list" || f.kind === "json" ? (
          <Textarea rows={4} className="font-mono text-xs" {...form.register(f.name)} />
        ) : (
          <Input type={f.kind === "secret" ? "password" : f.kind === "number" ? "number" : "text"} autoComplete="off" {...form.register(f.name)} />
        )}
      </Field>
    );
  };
  return <>{fields.map(control)}</>;
}
