// admin/modules/:name: the module's configuration as a form drawn from its configSchema; the
// server checks it again and names every problem (extensions.problems).
import { zodResolver } from "@hookform/resolvers/zod";
import { ArrowLeft } from "lucide-react";
import { useMemo } from "react";
import { Controller, useForm, type Resolver } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useMutation } from "urql";
import type { AdminConfigureModuleMutation, AdminConfigureModuleMutationVariables, AdminModulesQuery } from "@/api/graphql.generated";
import { ADMIN_CONFIGURE_MODULE } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";
import { Switch } from "@/components/ui/switch";
import { CheckboxGroup, SelectField, serverProblem } from "../common";
import { configOf, fieldsOf, valuesOf, zodOf, type FieldSpec, type FormValues } from "./schemaForm";

type Module = AdminModulesQuery["modules"][number];
const NONE = "_none";

function problemsOf(error: unknown): string[] {
  const e = error as { graphQLErrors?: { extensions?: { problems?: unknown } }[] } | null;
  const problems = e?.graphQLErrors?.[0]?.extensions?.problems;
  return Array.isArray(problems) ? problems.map(String) : [];
}

export function ModuleConfigForm({ module, onSaved }: { module: Module; onSaved: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const fields = useMemo(() => fieldsOf(module.configSchema), [module.configSchema]);
  const schema = useMemo(() => zodOf(module.configSchema), [module.configSchema]);
  const form = useForm<FormValues>({ resolver: zodResolver(schema) as unknown as Resolver<FormValues>, defaultValues: valuesOf(fields, module.config) });
  const [{ fetching, error }, configure] = useMutation<AdminConfigureModuleMutation, AdminConfigureModuleMutationVariables>(ADMIN_CONFIGURE_MODULE);
  const problems = problemsOf(error);

  const message = (m: string | undefined) => {
    if (!m) return undefined;
    const [key, arg] = m.split(/:(.*)/s);
    return t(`integrations.modules.errors.${key}`, { value: arg });
  };
  const submit = form.handleSubmit(async (values) => {
    const r = await configure({ name: module.name, config: configOf(fields, values) });
    if (r.data) {
      onSaved();
      void navigate("/admin/modules");
    }
  });
  const control = (f: FieldSpec) => {
    const error = message(form.formState.errors[f.name]?.message as string | undefined);
    const hint = f.kind === "secret" ? [f.description, t("integrations.modules.secretHint")].filter(Boolean).join(" ") : f.kind === "list" ? [f.description, t("integrations.modules.listHint")].filter(Boolean).join(" ") : f.description;
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
                <label htmlFor={`cfg-${f.name}`} className="text-sm font-medium">{f.label}</label>
                {f.description && <p className="text-xs text-muted-foreground">{f.description}</p>}
              </div>
              <Switch id={`cfg-${f.name}`} checked={field.value === true} onCheckedChange={field.onChange} />
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
            render={({ field }) => <CheckboxGroup idPrefix={`cfg-${f.name}`} mono items={f.options.map((o) => ({ value: o, label: o }))} value={field.value as string[]} onChange={field.onChange} />}
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

  const back = (
    <Button variant="ghost" asChild>
      <Link to="/admin/modules">
        <ArrowLeft aria-hidden /> {t("integrations.modules.back")}
      </Link>
    </Button>
  );
  return (
    <AdminFrame title={t("integrations.modules.configureTitle", { title: module.title })} description={module.description} actions={back}>
      <form onSubmit={submit} noValidate className="max-w-2xl space-y-5">
        <Card>
          <CardHeader title={t("integrations.modules.configuration")} description={t("integrations.modules.configurationHint")} />
          <CardBody className="space-y-5">{fields.length ? fields.map(control) : <p className="text-sm text-muted-foreground">{t("integrations.modules.nothingToConfigure")}</p>}</CardBody>
        </Card>
        {error && (
          <div role="alert" className="rounded-lg border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
            {problems.length ? (
              <>
                <p className="font-medium">{t("integrations.modules.problems")}</p>
                <ul className="mt-1 list-disc pl-5 font-mono text-xs">
                  {problems.map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              </>
            ) : (
              serverProblem(error, t)
            )}
          </div>
        )}
        <div className="flex justify-end gap-2">
          <Button type="button" variant="outline" onClick={() => void navigate("/admin/modules")}>
            {t("integrations.common.cancel")}
          </Button>
          <Button type="submit" disabled={fetching || fields.length === 0}>
            {fetching ? t("integrations.common.saving") : t("integrations.common.save")}
          </Button>
        </div>
      </form>
    </AdminFrame>
  );
}
