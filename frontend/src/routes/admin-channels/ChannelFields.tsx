// A platform's settings as form fields: public settings, write-only secrets ("set" / "replace"
// when editing), and the advanced ones folded away. Labels and help come from
// admin-channels.fields.<PLATFORM>.<key>, or admin-channels.common.<key> for shared ones.
import { Eye, EyeOff, KeyRound, Lock } from "lucide-react";
import { useState } from "react";
import { Controller, type UseFormReturn } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { visibleFields, type FieldSpec, type FormValues, type PlatformSpec } from "./platforms";

type Form = UseFormReturn<FormValues>;

export function useFieldText() {
  const { t } = useTranslation();
  return (platform: string, key: string, part: "label" | "help") =>
    t([`admin-channels.fields.${platform}.${key}.${part}`, `admin-channels.common.${key}.${part}`]);
}

export function ChannelFields({ spec, form, mode, secretsSet = [] }: { spec: PlatformSpec; form: Form; mode: "create" | "edit"; secretsSet?: readonly string[] }) {
  const { t } = useTranslation();
  const values = form.watch();
  const fields = visibleFields(spec, values);
  const config = fields.filter((f) => f.in === "config" && !f.advanced);
  const secrets = fields.filter((f) => f.in === "secrets");
  const advanced = fields.filter((f) => f.advanced);
  const one = (f: FieldSpec) => <OneField key={f.key} spec={spec} field={f} form={form} mode={mode} isSet={secretsSet.includes(f.key)} />;
  // Telegram, LINE, Viber…: when no setting is required, the secret the platform gave comes first.
  const secretsFirst = !config.some((f) => f.required);
  const secretsBlock = secrets.length > 0 && (
    <fieldset className="rounded-lg border border-border bg-muted/30 p-4">
      <legend className="sr-only">{`${t("admin-channels.form.secrets")}: ${t("admin-channels.form.secretsHelp")}`}</legend>
      <p className="mb-4 flex items-center gap-1.5 text-xs text-muted-foreground" aria-hidden>
        <Lock className="size-3.5" />
        <span className="font-semibold uppercase tracking-wide">{t("admin-channels.form.secrets")}</span>
        <span>· {t("admin-channels.form.secretsHelp")}</span>
      </p>
      <div className="grid grid-cols-1 gap-4 md:grid-cols-2">{secrets.map(one)}</div>
    </fieldset>
  );
  const groups = [...new Set(fields.filter((f) => f.group).map((f) => f.group!))];
  const nameField = (
    <Field label={t("admin-channels.form.name")} hint={t("admin-channels.form.nameHelp")} error={translate(t, message(form, "name"))}>
      <Input autoComplete="off" {...form.register("name")} />
    </Field>
  );
  if (groups.length)
    return (
      <div className="space-y-6">
        {nameField}
        {groups.map((g) => (
          <fieldset key={g} className="space-y-3 border-t border-border pt-5">
            <legend className="float-left mb-3 w-full text-xs font-semibold uppercase tracking-wide text-muted-foreground">{t(`admin-channels.groups.${g}`)}</legend>
            <div className="clear-both grid grid-cols-1 gap-4 md:grid-cols-2">{fields.filter((f) => f.group === g).map(one)}</div>
          </fieldset>
        ))}
      </div>
    );
  return (
    <div className="space-y-6">
      <Field label={t("admin-channels.form.name")} hint={t("admin-channels.form.nameHelp")} error={translate(t, message(form, "name"))}>
        <Input autoComplete="off" {...form.register("name")} />
      </Field>
      {secretsFirst ? secretsBlock : null}
      {config.length > 0 && (
        <fieldset className="space-y-3">
          <legend className="mb-3 text-xs font-semibold uppercase tracking-wide text-muted-foreground">{t("admin-channels.form.settings")}</legend>
          <div className="grid grid-cols-1 gap-4 md:grid-cols-2">{config.map(one)}</div>
        </fieldset>
      )}
      {secretsFirst ? null : secretsBlock}
      {advanced.length > 0 && (
        <details className="group rounded-lg border border-border px-4 py-3">
          <summary className="cursor-pointer text-sm font-medium text-muted-foreground hover:text-foreground">{t("admin-channels.form.advanced")}</summary>
          <div className="mt-4 grid grid-cols-1 gap-4 md:grid-cols-2">{advanced.map(one)}</div>
        </details>
      )}
    </div>
  );
}

function translate(t: (key: string) => string, key: string | undefined): string | undefined {
  return key ? t(key) : undefined;
}

function message(form: Form, key: string): string | undefined {
  const m = form.formState.errors[key]?.message;
  return m ? String(form.formState.errors[key]?.message) : undefined;
}

function OneField({ spec, field: f, form, mode, isSet }: { spec: PlatformSpec; field: FieldSpec; form: Form; mode: "create" | "edit"; isSet: boolean }) {
  const { t } = useTranslation();
  const text = useFieldText();
  const error = message(form, f.key);
  const optional = !f.required && !f.generated && f.kind !== "choice";
  const label = (
    <span className="flex items-center gap-1.5">
      {f.kind === "secret" && spec.fields.some((x) => x.group) && <Lock className="size-3.5 text-muted-foreground" aria-hidden />}
      {text(spec.platform, f.key, "label")}
      {optional && <span className="text-xs font-normal text-muted-foreground">({t("admin-channels.form.optional")})</span>}
    </span>
  );
  const hint = f.generated && mode === "create" ? `${text(spec.platform, f.key, "help")} ${t("admin-channels.form.generatedHint")}` : text(spec.platform, f.key, "help");
  const translated = error ? t(error) : undefined;

  if (f.kind === "secret") return <SecretField spec={spec} field={f} form={form} label={label} hint={hint} error={translated} isSet={isSet && mode === "edit"} />;
  if (f.kind === "choice")
    return (
      <Controller
        control={form.control}
        name={f.key}
        render={({ field }) => (
          <Select value={field.value} onValueChange={field.onChange}>
            <Field label={label} hint={hint} error={translated}>
              <SelectTrigger className="h-9 text-sm" onBlur={field.onBlur}>
                <SelectValue />
              </SelectTrigger>
            </Field>
            <SelectContent>
              {f.choices!.map((c) => (
                <SelectItem key={c} value={c} className="text-sm">
                  {t(`admin-channels.choice.${c}`)}
                </SelectItem>
              ))}
            </SelectContent>
          </Select>
        )}
      />
    );
  return (
    <Field label={label} hint={hint} error={translated} className={f.kind === "lines" ? "md:col-span-2" : undefined}>
      {f.kind === "lines" ? (
        <Textarea rows={3} placeholder={f.placeholder} spellCheck={false} {...form.register(f.key)} />
      ) : (
        <Input autoComplete="off" spellCheck={false} inputMode={f.kind === "port" ? "numeric" : undefined} placeholder={f.placeholder} {...form.register(f.key)} />
      )}
    </Field>
  );
}

/** A write-only value: never shown. Editing, a set one reads "Set" with a Replace button. */
function SecretField({ spec, field: f, form, label, hint, error, isSet }: { spec: PlatformSpec; field: FieldSpec; form: Form; label: React.ReactNode; hint: string; error?: string; isSet: boolean }) {
  const { t } = useTranslation();
  const text = useFieldText();
  const [replacing, setReplacing] = useState(false);
  const [visible, setVisible] = useState(false);
  if (isSet && !replacing)
    return (
      <div className="space-y-1.5">
        <span className="block text-sm font-medium">{label}</span>
        <div className="flex h-9 items-center justify-between gap-2 rounded-md border border-dashed border-border bg-background px-3">
          <span className="flex items-center gap-2 text-sm text-muted-foreground">
            <KeyRound className="size-4" aria-hidden />
            <span aria-hidden>••••••••</span>
            <Badge variant="success" data-secret-set={f.key}>{t("admin-channels.form.set")}</Badge>
          </span>
          <Button type="button" variant="ghost" size="sm" onClick={() => setReplacing(true)} aria-label={`${t("admin-channels.form.replace")}: ${text(spec.platform, f.key, "label")}`}>
            {t("admin-channels.form.replace")}
          </Button>
        </div>
        <p className="text-xs text-muted-foreground">{hint}</p>
      </div>
    );
  return (
    <Field label={isSet ? t("admin-channels.form.replaceLabel", { label: text(spec.platform, f.key, "label") }) : label} hint={hint} error={error}>
      <SecretInput
        {...form.register(f.key)}
        visible={visible}
        onToggle={() => setVisible((v) => !v)}
        onKeep={
          isSet
            ? () => {
                form.setValue(f.key, "", { shouldValidate: form.formState.isSubmitted });
                setReplacing(false);
              }
            : undefined
        }
        placeholder={f.placeholder}
      />
    </Field>
  );
}

type SecretInputProps = ReturnType<Form["register"]> & { visible: boolean; onToggle: () => void; onKeep?: () => void; placeholder?: string; id?: string };

function SecretInput({ visible, onToggle, onKeep, ...props }: SecretInputProps) {
  const { t } = useTranslation();
  return (
    <div className="flex items-center gap-2">
      <div className="relative flex-1">
        <Input type={visible ? "text" : "password"} autoComplete="new-password" spellCheck={false} className="pr-9" {...props} />
        <button
          type="button"
          onClick={onToggle}
          aria-label={visible ? t("admin-channels.form.hide") : t("admin-channels.form.show")}
          className="absolute right-1.5 top-1/2 -translate-y-1/2 rounded p-1 text-muted-foreground hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
        >
          {visible ? <EyeOff className="size-4" aria-hidden /> : <Eye className="size-4" aria-hidden />}
        </button>
      </div>
      {onKeep && (
        <Button type="button" variant="ghost" size="sm" onClick={onKeep}>
          {t("admin-channels.form.keep")}
        </Button>
      )}
    </div>
  );
}
