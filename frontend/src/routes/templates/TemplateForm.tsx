// The template editor: name, shortcut, category, tags, the universal body (typing `{{` proposes
// the variables), a variant per platform, the prompts an agent fills, a note kept with the version;
// the preview beside it. Saving makes a new version (saveTemplate).
import { zodResolver } from "@hookform/resolvers/zod";
import { Loader2, Plus, Save, Trash2, Variable } from "lucide-react";
import { useState } from "react";
import { Controller, useFieldArray, useForm, useWatch } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { PlatformIcon, platformLabel } from "@/components/PlatformIcon";
import { measure, PLATFORMS, promptsIn, PROMPT_NAME } from "@/components/templates/logic";
import { VariableTextarea } from "@/components/templates/VariableTextarea";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from "@/components/ui/select";
import { cn } from "@/lib/utils";
import { templateSchema, type TemplateForm as Form } from "./schema";
import { TemplatePreview } from "./TemplatePreview";

export function useErrorText() {
  const { t } = useTranslation();
  return (message: string | undefined) => {
    if (!message) return undefined;
    if (!message.startsWith("templates.")) return message; // the server's own words
    const [key, name] = message.split("|");
    return t(key, { name, defaultValue: message });
  };
}

/** A refused save: the server's message, and the form field it names (extensions.field). */
export interface SaveProblem { field: string | null; message: string }

const FORM_FIELDS = new Set(["name", "shortcut", "category", "tags", "body"]);

/** What saveTemplate refused, from urql's error: extensions.field and the raw message. */
export function saveProblem(error: unknown, fallback: string): SaveProblem {
  const first = (error as { graphQLErrors?: { message: string; extensions?: { field?: unknown } }[] } | null)?.graphQLErrors?.[0];
  const field = typeof first?.extensions?.field === "string" ? first.extensions.field : null;
  return { field, message: first?.message ?? fallback };
}

export function TemplateForm({ initial, onSave, saveLabel, readOnly = false }: { initial: Form; onSave: (form: Form) => Promise<SaveProblem | null | void>; saveLabel: string; readOnly?: boolean }) {
  const { t, i18n } = useTranslation();
  const errorText = useErrorText();
  const [problem, setProblem] = useState<string | null>(null);
  const { register, control, handleSubmit, formState, setValue, setError } = useForm<Form>({ resolver: zodResolver(templateSchema), defaultValues: initial, mode: "onBlur" });
  const variants = useFieldArray({ control, name: "variants" });
  const watched = useWatch({ control }) as Form;
  const body = watched.body ?? "";
  const watchedVariants = watched.variants ?? [];
  const prompts = promptsIn([body, ...watchedVariants.map((v) => v?.body ?? "")]);
  const [adding, setAdding] = useState<string>("");
  const free = PLATFORMS.filter((p) => !watchedVariants.some((v) => v?.platform === p));
  const e = formState.errors;

  return (
    <form
      onSubmit={handleSubmit(async (form) => {
        setProblem(null);
        const refused = await onSave(form);
        if (!refused) return;
        if (refused.field && FORM_FIELDS.has(refused.field)) setError(refused.field as keyof Form, { message: refused.message }, { shouldFocus: true });
        else setProblem(refused.message);
      })}
      className="grid grid-cols-1 items-start gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]"
      aria-label={t("templates.editor.title")}
      noValidate
    >
      <fieldset disabled={readOnly || formState.isSubmitting} className="min-w-0 space-y-5">
        <Card>
          <CardHeader title={t("templates.editor.details")} />
          <CardBody className="grid grid-cols-2 gap-4">
            <Field label={t("templates.field.name")} error={errorText(e.name?.message)} className="col-span-2">
              <Input {...register("name")} placeholder={t("templates.field.namePlaceholder")} autoComplete="off" />
            </Field>
            <Field label={t("templates.field.shortcut")} hint={t("templates.field.shortcutHint")} error={errorText(e.shortcut?.message)}>
              <Input {...register("shortcut")} placeholder="/entrega" className="font-mono" autoComplete="off" />
            </Field>
            <Field label={t("templates.field.category")} hint={t("templates.field.categoryHint")} error={errorText(e.category?.message)}>
              <Input {...register("category")} placeholder={t("templates.field.categoryPlaceholder")} autoComplete="off" />
            </Field>
            <Field label={t("templates.field.tags")} hint={t("templates.field.tagsHint")} error={errorText(e.tags?.message)} className="col-span-2">
              <Input {...register("tags")} placeholder="pedido, entrega" autoComplete="off" />
            </Field>
          </CardBody>
        </Card>

        <Card>
          <CardHeader title={t("templates.field.body")} description={t("templates.editor.bodyHint", { open: "{{" })} />
          <CardBody className="space-y-3">
            <Controller
              control={control}
              name="body"
              render={({ field }) => (
                <Field label={t("templates.field.universal")} error={errorText(e.body?.message)}>
                  <VariableTextarea value={field.value} onChange={field.onChange} onBlur={field.onBlur} prompts={prompts} rows={6} placeholder={t("templates.field.bodyPlaceholder")} />
                </Field>
              )}
            />
            {prompts.length > 0 && (
              <div className="rounded-lg border border-dashed border-border bg-muted/30 p-3">
                <p className="mb-2 flex items-center gap-1.5 text-xs font-semibold uppercase tracking-wide text-muted-foreground">
                  <Variable className="size-3.5" aria-hidden /> {t("templates.editor.prompts")}
                </p>
                <p className="mb-3 text-xs text-muted-foreground">{t("templates.editor.promptsHint")}</p>
                <div className="grid grid-cols-2 gap-3">
                  {prompts.filter((name) => PROMPT_NAME.test(name)).map((name) => (
                    <Field key={name} label={<code className="font-mono text-xs">{name}</code>}>
                      <Input
                        value={watched.prompts?.[name] ?? ""}
                        onChange={(ev) => setValue("prompts", { ...(watched.prompts ?? {}), [name]: ev.target.value })}
                        placeholder={t("templates.editor.promptLabel")}
                        aria-label={t("templates.editor.promptLabelFor", { name })}
                      />
                    </Field>
                  ))}
                </div>
              </div>
            )}
          </CardBody>
        </Card>

        <Card>
          <CardHeader
            title={t("templates.editor.variants")}
            description={t("templates.editor.variantsHint")}
            actions={
              !readOnly && free.length > 0 && (
                <div className="flex items-center gap-2">
                  <Select value={adding} onValueChange={setAdding}>
                    <SelectTrigger className="h-8 w-40" aria-label={t("templates.editor.variantPlatform")}>
                      <SelectValue placeholder={t("templates.editor.variantPlatform")} />
                    </SelectTrigger>
                    <SelectContent>
                      {free.map((p) => (
                        <SelectItem key={p} value={p}>
                          <span className="flex items-center gap-1.5"><PlatformIcon platform={p} className="ring-0" /> {platformLabel(p)}</span>
                        </SelectItem>
                      ))}
                    </SelectContent>
                  </Select>
                  <Button
                    type="button"
                    size="sm"
                    variant="outline"
                    disabled={!adding}
                    onClick={() => {
                      variants.append({ platform: adding, body: "", subject: "" });
                      setAdding("");
                    }}
                  >
                    <Plus aria-hidden /> {t("templates.editor.addVariant")}
                  </Button>
                </div>
              )
            }
          />
          <CardBody className="space-y-4">
            {variants.fields.length === 0 && <p className="text-sm text-muted-foreground">{t("templates.editor.noVariants")}</p>}
            {variants.fields.map((v, index) => {
              const text = watchedVariants[index]?.body ?? "";
              const size = measure(text, v.platform);
              const err = e.variants?.[index];
              return (
                <div key={v.id} className="rounded-lg border border-border p-3" data-variant={v.platform}>
                  <div className="mb-2 flex items-center justify-between">
                    <span className="flex items-center gap-2 text-sm font-medium">
                      <PlatformIcon platform={v.platform} className="ring-0" /> {platformLabel(v.platform)}
                    </span>
                    <div className="flex items-center gap-3">
                      <span className={cn("text-xs tabular-nums", size.over ? "font-semibold text-destructive" : "text-muted-foreground")}>
                        {t(size.unit === "bytes" ? "templates.limit.bytes" : "templates.limit.chars", { size: size.size.toLocaleString(i18n.language), max: size.max.toLocaleString(i18n.language) })}
                      </span>
                      {!readOnly && (
                        <Button type="button" size="icon" variant="ghost" onClick={() => variants.remove(index)} aria-label={t("templates.editor.removeVariant", { platform: platformLabel(v.platform) })}>
                          <Trash2 aria-hidden />
                        </Button>
                      )}
                    </div>
                  </div>
                  {v.platform === "EMAIL" && (
                    <Field label={t("templates.field.subject")} error={errorText(err?.subject?.message)} className="mb-3">
                      <Input {...register(`variants.${index}.subject`)} />
                    </Field>
                  )}
                  <Controller
                    control={control}
                    name={`variants.${index}.body`}
                    render={({ field }) => (
                      <Field label={t("templates.editor.variantBody", { platform: platformLabel(v.platform) })} hint={t("templates.editor.variantBodyHint")} error={errorText(err?.body?.message)}>
                        <VariableTextarea value={field.value} onChange={field.onChange} onBlur={field.onBlur} prompts={prompts} rows={4} />
                      </Field>
                    )}
                  />
                </div>
              );
            })}
          </CardBody>
        </Card>

        {problem && (
          <p role="alert" className="rounded-md border border-destructive/30 bg-danger-soft px-3 py-2 text-sm text-danger-strong">{problem}</p>
        )}
        {!readOnly && (
          <div className="flex items-end gap-3">
            <Field label={t("templates.field.note")} hint={t("templates.field.noteHint")} className="flex-1">
              <Input {...register("note")} placeholder={t("templates.field.notePlaceholder")} />
            </Field>
            <Button type="submit" disabled={formState.isSubmitting} className="mb-[22px]">
              {formState.isSubmitting ? <Loader2 className="animate-spin" aria-hidden /> : <Save aria-hidden />} {saveLabel}
            </Button>
          </div>
        )}
      </fieldset>
      <div className="lg:sticky lg:top-4">
        <TemplatePreview source={{ body, variants: watchedVariants.filter(Boolean).map((v) => ({ platform: v.platform, body: v.body ?? "", subject: v.subject ?? "" })), prompts: watched.prompts ?? {} }} />
      </div>
    </form>
  );
}
