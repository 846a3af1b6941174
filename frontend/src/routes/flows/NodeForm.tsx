// The selected node's settings: a React Hook Form whose resolver runs the node type's Zod schema
// (kinds.ts, mirroring the server) on the config the values make. Every edit goes to the graph at
// once (typing in one field is one undo step), valid or not: the canvas shows what is wrong.
import { toNestErrors } from "@hookform/resolvers";
import { Plus, Trash2, X } from "lucide-react";
import { zodResolver } from "@hookform/resolvers/zod";
import { useEffect, useMemo, type ReactNode } from "react";
import { Controller, get, useFieldArray, useForm, type FieldErrors, type Resolver, type UseFormReturn } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { Switch } from "@/components/ui/switch";
import { cn } from "@/lib/utils";
import { SchemaFields } from "@/routes/integrations/modules/SchemaFields";
import { moduleFields, moduleText } from "@/routes/integrations/modules/moduleWords";
import { configOf, fieldsOf, valuesOf, zodOf, type FormValues } from "@/routes/integrations/modules/schemaForm";
import { branchValues, FORMS, type Values } from "./forms";
import type { BuilderNode } from "./graph";
import { configIssues, configProblems, TRIGGER_EVENTS, type Config } from "./kinds";
import { ACCENTS, iconOf, MODULE_ACCENT } from "./meta";
import { moduleKind, type ModuleKind } from "./moduleKinds";
import { AgentPicker, TeamPicker, TemplatePicker } from "./Pickers";

export const selectClass =
  "h-9 w-full rounded-md border border-input bg-background px-2.5 text-sm shadow-xs focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring";

/** The resolver: the values' config through the type's schema, problems on the fields they name. */
export function configResolver(kind: string): Resolver<Values> {
  const spec = FORMS[kind];
  return async (values, _context, options) => {
    const config = spec.toConfig(values);
    const result = configIssues(kind, config);
    if (!result.length) return { values, errors: {} };
    const errors: FieldErrors = {};
    for (const { path, message } of result) {
      const field = spec.field ? spec.field(path) : (path[0] ?? "root");
      if (!errors[field]) errors[field] = { type: "validate", message };
    }
    return { values: {}, errors: toNestErrors(errors, options) };
  };
}

type OnConfig = (config: Config, field?: string) => void;

export function NodeForm({
  node, onConfig, onDelete, serverProblems,
}: {
  node: BuilderNode;
  onConfig: OnConfig;
  onDelete: () => void;
  serverProblems: string[];
}) {
  const { t } = useTranslation();
  const kind = node.data.kind;
  const contributed = moduleKind(kind);
  const Icon = iconOf(kind);
  const general = configProblems(kind, node.data.config).length === 0 ? serverProblems : [];
  return (
    <form className="space-y-4" onSubmit={(e) => e.preventDefault()} aria-label={t("flows.form.title", { id: node.id })} data-node-form={node.id}>
      <div className="flex items-center gap-2">
        <span className={cn("flex size-8 items-center justify-center rounded-md", ACCENTS[kind] ?? MODULE_ACCENT)}>
          <Icon className="size-4" aria-hidden />
        </span>
        <div className="min-w-0 flex-1">
          <h3 className="text-sm font-semibold">{t(`flows.kind.${kind}`, { defaultValue: kind })}</h3>
          <p className="truncate font-mono text-xs text-muted-foreground">{node.id}</p>
        </div>
        <Button type="button" variant="ghost" size="icon" onClick={onDelete} aria-label={t("flows.form.delete")}>
          <Trash2 aria-hidden />
        </Button>
      </div>
      <p className="text-xs text-muted-foreground">
        {contributed ? t("flows.form.moduleHelp", { description: moduleText(contributed.module, `nodes.${contributed.name}.description`, contributed.description), module: moduleText(contributed.module, "title", contributed.moduleTitle) }) : t(`flows.help.${kind}`, { defaultValue: "" })}
      </p>
      {general.length > 0 && (
        <ul role="alert" className="space-y-1 rounded-md bg-danger-soft px-3 py-2 text-xs text-danger-strong">
          {general.map((p) => <li key={p}>{p}</li>)}
        </ul>
      )}
      {contributed ? <ModuleFields kind={contributed} node={node} onConfig={onConfig} /> : <BuiltInFields node={node} onConfig={onConfig} />}
    </form>
  );
}

function BuiltInFields({ node, onConfig }: { node: BuilderNode; onConfig: OnConfig }) {
  const { t } = useTranslation();
  const kind = node.data.kind;
  const spec = FORMS[kind];
  const form = useForm<Values>({ defaultValues: spec?.fromConfig(node.data.config) ?? {}, resolver: spec ? configResolver(kind) : undefined, mode: "onChange" });
  const { watch, trigger } = form;
  useEffect(() => {
    if (!spec) return;
    void trigger();
    // every change validates the whole form: a problem may be about a field not edited (a branch's test, the list)
    const subscription = watch((values, { name }) => {
      onConfig(spec.toConfig(values as Values), name);
      void trigger();
    });
    return () => subscription.unsubscribe();
  }, [watch, trigger, onConfig, spec]);
  return spec ? <KindFields kind={kind} form={form} /> : <p className="text-sm text-muted-foreground">{t("flows.form.unknown")}</p>;
}

/** A module's node: the form drawn from its config's JSON Schema, like Settings → Modules. */
function ModuleFields({ kind, node, onConfig }: { kind: ModuleKind; node: BuilderNode; onConfig: OnConfig }) {
  const { t } = useTranslation();
  const fields = useMemo(() => fieldsOf(kind.configSchema), [kind]);
  const resolver = useMemo(() => zodResolver(zodOf(kind.configSchema)) as unknown as Resolver<FormValues>, [kind]);
  const form = useForm<FormValues>({ resolver, defaultValues: valuesOf(fields, node.data.config), mode: "onChange" });
  const { watch, trigger } = form;
  useEffect(() => {
    void trigger();
    const subscription = watch((values, { name }) => {
      try {
        onConfig(configOf(fields, values as FormValues), name);
      } catch {
        // text that is not JSON yet in a JSON field: the field says so, the node keeps its last config
      }
      void trigger();
    });
    return () => subscription.unsubscribe();
  }, [watch, trigger, onConfig, fields]);
  if (!fields.length) return <p className="text-sm text-muted-foreground">{t("flows.form.nothing")}</p>;
  return <SchemaFields fields={moduleFields(fields, kind.module, kind.name)} form={form} idPrefix={`node-${node.id}`} />;
}

function err(form: UseFormReturn<Values>, name: string): string | undefined {
  return (get(form.formState.errors, name) as { message?: string } | undefined)?.message;
}

function Select({ children, ...props }: React.SelectHTMLAttributes<HTMLSelectElement> & { children: ReactNode }) {
  return <select className={selectClass} {...props}>{children}</select>;
}

function KindFields({ kind, form }: { kind: string; form: UseFormReturn<Values> }) {
  const { t } = useTranslation();
  const { register, watch } = form;
  const f = (key: string) => t(`flows.form.${key}`);
  const textHint = t("flows.form.placeholders");
  switch (kind) {
    case "trigger": {
      const mode = watch("mode");
      const event = watch("event");
      return (
        <>
          <Field label={f("startsWhen")}>
            <Select {...register("mode")}>
              <option value="keywords">{f("modeKeywords")}</option>
              <option value="regex">{f("modeRegex")}</option>
              <option value="event">{f("modeEvent")}</option>
              <option value="schedule">{f("modeSchedule")}</option>
            </Select>
          </Field>
          {mode === "schedule" && (
            <>
              <Field label={f("cron")} hint={f("cronHint")} error={err(form, "cron")}>
                <Input {...register("cron")} className="font-mono" placeholder="0 9 * * 1-5" />
              </Field>
              <Field label={f("timeZone")} error={err(form, "time_zone")}>
                <Input {...register("time_zone")} placeholder="America/Sao_Paulo" />
              </Field>
              <Field label={f("scheduleLabel")} hint={f("scheduleLabelHint")} error={err(form, "schedule_label")}>
                <Input {...register("schedule_label")} className="font-mono" placeholder="follow_up" />
              </Field>
            </>
          )}
          {mode === "keywords" && (
            <Field label={f("keywords")} hint={f("keywordsHint")} error={err(form, "keywords")}>
              <Input {...register("keywords")} placeholder="pedido, order" />
            </Field>
          )}
          {mode === "regex" && (
            <Field label={f("regex")} error={err(form, "regex")}>
              <Input {...register("regex")} className="font-mono" placeholder="^(oi|olá)\b" />
            </Field>
          )}
          {mode === "event" && (
            <>
              <Field label={f("event")} error={err(form, "event")}>
                <Select {...register("event")}>
                  {TRIGGER_EVENTS.map((e) => <option key={e} value={e}>{t(`flows.event.${e}`)}</option>)}
                </Select>
              </Field>
              {event === "no_agent_reply" && (
                <Field label={f("minutes")} error={err(form, "minutes")}>
                  <Input type="number" min={1} {...register("minutes", { valueAsNumber: true })} />
                </Field>
              )}
              {event === "label_added" && (
                <Field label={f("labelOptional")} error={err(form, "label")}>
                  <Input {...register("label")} placeholder="vip" />
                </Field>
              )}
            </>
          )}
        </>
      );
    }
    case "send_message": {
      const mode = watch("mode");
      return (
        <>
          <Field label={f("sendWhat")}>
            <Select {...register("mode")}>
              <option value="text">{f("sendText")}</option>
              <option value="template">{f("sendTemplate")}</option>
            </Select>
          </Field>
          {mode === "template" ? (
            <>
              <Controller
                control={form.control}
                name="template_id"
                render={({ field }) => (
                  <Field label={f("template")} hint={f("templateHint")} error={err(form, "template_id")}>
                    <TemplatePicker value={String(field.value ?? "")} onChange={field.onChange} />
                  </Field>
                )}
              />
              <Field label={f("templateVariables")} error={err(form, "variables")}>
                <Textarea rows={4} spellCheck={false} {...register("variables")} className="font-mono text-xs" />
              </Field>
            </>
          ) : (
            <Field label={f("text")} hint={textHint} error={err(form, "text")}>
              <Textarea rows={5} {...register("text")} />
            </Field>
          )}
        </>
      );
    }
    case "ask": {
      const validation = watch("kind");
      return (
        <>
          <Field label={f("question")} hint={textHint} error={err(form, "text")}>
            <Textarea rows={3} {...register("text")} />
          </Field>
          <Field label={f("variable")} hint={f("variableHint")} error={err(form, "variable")}>
            <Input {...register("variable")} className="font-mono" placeholder="pedido" />
          </Field>
          <Field label={f("validation")} error={err(form, "kind")}>
            <Select {...register("kind")}>
              {["text", "number", "email", "phone", "date", "one_of", "regex"].map((v) => <option key={v} value={v}>{t(`flows.validation.${v}`)}</option>)}
            </Select>
          </Field>
          {validation === "one_of" && (
            <Field label={f("options")} hint={f("keywordsHint")} error={err(form, "options")}>
              <Input {...register("options")} />
            </Field>
          )}
          {validation === "regex" && (
            <Field label={f("pattern")} error={err(form, "pattern")}>
              <Input {...register("pattern")} className="font-mono" />
            </Field>
          )}
          <Retry form={form} />
        </>
      );
    }
    case "buttons":
      return (
        <>
          <Field label={f("text")} hint={textHint} error={err(form, "text")}>
            <Textarea rows={3} {...register("text")} />
          </Field>
          <ButtonList form={form} />
          <Field label={f("variableOptional")} hint={f("variableHint")} error={err(form, "variable")}>
            <Input {...register("variable")} className="font-mono" />
          </Field>
          <Retry form={form} />
        </>
      );
    case "condition":
      return <Branches form={form} />;
    case "http_request":
      return (
        <>
          <div className="grid grid-cols-[6.5rem_1fr] gap-2">
            <Field label={f("method")} error={err(form, "method")}>
              <Select {...register("method")}>
                {["GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => <option key={m} value={m}>{m}</option>)}
              </Select>
            </Field>
            <Field label={f("url")} error={err(form, "url")}>
              <Input {...register("url")} className="font-mono text-xs" placeholder="https://api.example.com/orders/{{order}}" />
            </Field>
          </div>
          <Field label={f("headers")} error={err(form, "headers")}>
            <Textarea rows={3} spellCheck={false} {...register("headers")} className="font-mono text-xs" />
          </Field>
          <Field label={f("body")} hint={f("bodyHint")} error={err(form, "body")}>
            <Textarea rows={3} spellCheck={false} {...register("body")} className="font-mono text-xs" />
          </Field>
          <Field label={f("responseMap")} hint={f("responseMapHint")} error={err(form, "response_map")}>
            <Textarea rows={3} spellCheck={false} {...register("response_map")} className="font-mono text-xs" />
          </Field>
          <Field label={f("timeout")} error={err(form, "timeout_seconds")}>
            <Input type="number" min={1} max={30} {...register("timeout_seconds", { valueAsNumber: true })} />
          </Field>
        </>
      );
    case "set": {
      const target = watch("target");
      return (
        <>
          <Field label={f("setWhat")}>
            <Select {...register("target")}>
              <option value="variable">{f("targetVariable")}</option>
              <option value="attribute">{f("targetAttribute")}</option>
              <option value="label">{f("targetLabel")}</option>
            </Select>
          </Field>
          <Field label={f("name")} error={err(form, "name")}>
            <Input {...register("name")} className="font-mono" />
          </Field>
          {target === "label" ? (
            <label className="flex items-center gap-2 text-sm">
              <Switch checked={Boolean(watch("remove"))} onCheckedChange={(v) => form.setValue("remove", v, { shouldDirty: true, shouldValidate: true })} aria-label={f("removeLabel")} />
              {f("removeLabel")}
            </label>
          ) : (
            <Field label={f("value")} hint={textHint} error={err(form, "value")}>
              <Input {...register("value")} />
            </Field>
          )}
        </>
      );
    }
    case "wait": {
      const mode = watch("mode");
      return (
        <>
          <Field label={f("waitFor")}>
            <Select {...register("mode")}>
              <option value="duration">{f("waitDuration")}</option>
              <option value="reply">{f("waitReply")}</option>
            </Select>
          </Field>
          {mode === "reply" ? (
            <Field label={f("timeoutSeconds")} error={err(form, "timeout_seconds") ?? err(form, "seconds")}>
              <Input type="number" min={1} {...register("timeout_seconds", { valueAsNumber: true })} />
            </Field>
          ) : (
            <Field label={f("seconds")} error={err(form, "seconds")}>
              <Input type="number" min={1} {...register("seconds", { valueAsNumber: true })} />
            </Field>
          )}
        </>
      );
    }
    case "transfer": {
      const to = watch("to");
      return (
        <>
          <Field label={f("transferTo")}>
            <Select {...register("to", { onChange: () => form.setValue("id", "", { shouldDirty: true }) })}>
              <option value="team">{f("team")}</option>
              <option value="agent">{f("agent")}</option>
            </Select>
          </Field>
          <Controller
            control={form.control}
            name="id"
            render={({ field }) => (
              <Field label={to === "agent" ? f("agentPick") : f("teamPick")} error={err(form, "id")}>
                {to === "agent" ? (
                  <AgentPicker value={String(field.value ?? "")} onChange={field.onChange} />
                ) : (
                  <TeamPicker value={String(field.value ?? "")} onChange={field.onChange} />
                )}
              </Field>
            )}
          />
        </>
      );
    }
    case "escalate":
      return (
        <Field label={f("reason")} error={err(form, "reason")}>
          <Input {...register("reason")} />
        </Field>
      );
    default:
      return <p className="text-sm text-muted-foreground">{f("nothing")}</p>;
  }
}

function Retry({ form }: { form: UseFormReturn<Values> }) {
  const { t } = useTranslation();
  return (
    <div className="grid grid-cols-[1fr_6rem] gap-3">
      <Field label={t("flows.form.retry")} error={err(form, "retry_text")}>
        <Input {...form.register("retry_text")} />
      </Field>
      <Field label={t("flows.form.attempts")} error={err(form, "max_attempts")}>
        <Input type="number" min={1} max={10} {...form.register("max_attempts", { valueAsNumber: true })} />
      </Field>
    </div>
  );
}

const OPERATORS = ["equals", "not_equals", "contains", "gt", "gte", "lt", "lte", "exists", "not_exists"];

function Branches({ form }: { form: UseFormReturn<Values> }) {
  const { t } = useTranslation();
  const f = (key: string) => t(`flows.form.${key}`);
  const { fields, append, remove } = useFieldArray({ control: form.control, name: "branches" as never });
  const { register, watch } = form;
  const listError = err(form, "branches") ?? (get(form.formState.errors, "branches.root") as { message?: string } | undefined)?.message;
  return (
    <fieldset className="space-y-3">
      <legend className="text-sm font-medium">{f("branches")}</legend>
      <p className="text-xs text-muted-foreground">{f("branchesHint")}</p>
      {fields.map((field, i) => {
        const kind = String(watch(`branches.${i}.kind`) ?? "");
        const op = String(watch(`branches.${i}.op`) ?? "");
        const whenError = err(form, `branches.${i}.when`);
        return (
          <div key={field.id} className="space-y-2 rounded-lg border border-border p-3" data-branch={i}>
            <div className="flex items-end gap-2">
              <Field label={f("branchPort")} error={err(form, `branches.${i}.port`)} className="flex-1">
                <Input {...register(`branches.${i}.port`)} className="font-mono" />
              </Field>
              <Button type="button" variant="ghost" size="icon" className="mb-0.5" onClick={() => remove(i)} aria-label={t("flows.form.removeBranch", { n: i + 1 })}>
                <X aria-hidden />
              </Button>
            </div>
            <Field label={f("branchWhen")}>
              <Select {...register(`branches.${i}.kind`)}>
                {["keyword", "regex", "variable", "attribute", "label", "platform", "business_hours"].map((k) => <option key={k} value={k}>{t(`flows.when.${k}`)}</option>)}
              </Select>
            </Field>
            {kind === "keyword" && <Field label={f("keywords")}><Input {...register(`branches.${i}.words`)} /></Field>}
            {kind === "regex" && <Field label={f("regex")}><Input {...register(`branches.${i}.regex`)} className="font-mono" /></Field>}
            {kind === "label" && <Field label={f("name")}><Input {...register(`branches.${i}.name`)} className="font-mono" /></Field>}
            {kind === "platform" && <Field label={f("platforms")} hint="whatsapp, telegram, webchat…"><Input {...register(`branches.${i}.platforms`)} /></Field>}
            {(kind === "variable" || kind === "attribute") && (
              <div className="grid grid-cols-3 gap-2">
                <Field label={f("name")}><Input {...register(`branches.${i}.name`)} className="font-mono" /></Field>
                <Field label={f("operator")}>
                  <Select {...register(`branches.${i}.op`)}>
                    {OPERATORS.map((o) => <option key={o} value={o}>{t(`flows.op.${o}`)}</option>)}
                  </Select>
                </Field>
                {op !== "exists" && op !== "not_exists" && <Field label={f("value")}><Input {...register(`branches.${i}.value`)} /></Field>}
              </div>
            )}
            {kind === "business_hours" && (
              <div className="grid grid-cols-2 gap-2">
                <Field label={f("timeZone")} className="col-span-2"><Input {...register(`branches.${i}.time_zone`)} /></Field>
                <Field label={f("start")}><Input type="time" {...register(`branches.${i}.start`)} /></Field>
                <Field label={f("end")}><Input type="time" {...register(`branches.${i}.end`)} /></Field>
                <Field label={f("days")} hint={f("daysHint")} className="col-span-2"><Input {...register(`branches.${i}.days`)} /></Field>
              </div>
            )}
            {whenError && <p role="alert" className="text-xs font-medium text-destructive">{whenError}</p>}
          </div>
        );
      })}
      {listError && <p role="alert" className="text-xs font-medium text-destructive">{listError}</p>}
      <Button type="button" variant="outline" size="sm" onClick={() => append(branchValues(`branch_${fields.length + 1}`, { label: "" }) as never)}>
        <Plus aria-hidden /> {f("addBranch")}
      </Button>
      <p className="text-xs text-muted-foreground">{f("elseHint")}</p>
    </fieldset>
  );
}

function ButtonList({ form }: { form: UseFormReturn<Values> }) {
  const { t } = useTranslation();
  const { fields, append, remove } = useFieldArray({ control: form.control, name: "buttons" as never });
  const listError = err(form, "buttons") ?? (get(form.formState.errors, "buttons.root") as { message?: string } | undefined)?.message;
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium">{t("flows.form.buttons")}</legend>
      {fields.map((field, index) => (
        <div key={field.id} className="grid grid-cols-[6.5rem_1fr_auto] items-start gap-2">
          <Input aria-label={t("flows.form.buttonId", { n: index + 1 })} className="font-mono" {...form.register(`buttons.${index}.id`)} />
          <Input aria-label={t("flows.form.buttonTitle", { n: index + 1 })} {...form.register(`buttons.${index}.title`)} />
          <Button type="button" variant="ghost" size="icon" onClick={() => remove(index)} aria-label={t("flows.form.removeButton", { n: index + 1 })}>
            <X aria-hidden />
          </Button>
        </div>
      ))}
      {listError && <p role="alert" className="text-xs font-medium text-destructive">{listError}</p>}
      {fields.length < 10 && (
        <Button type="button" variant="outline" size="sm" onClick={() => append({ id: `option_${fields.length + 1}`, title: "" } as never)}>
          <Plus aria-hidden /> {t("flows.form.addButton")}
        </Button>
      )}
    </fieldset>
  );
}
