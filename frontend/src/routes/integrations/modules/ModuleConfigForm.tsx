// admin/modules/:name: the module's configuration as a form drawn from its configSchema; the
// server checks it again and names every problem (extensions.problems).
import { zodResolver } from "@hookform/resolvers/zod";
import { ArrowLeft } from "lucide-react";
import { useMemo } from "react";
import { useForm, type Resolver } from "react-hook-form";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useMutation } from "urql";
import type { AdminConfigureModuleMutation, AdminConfigureModuleMutationVariables, AdminModulesQuery } from "@/api/graphql.generated";
import { ADMIN_CONFIGURE_MODULE } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { Button } from "@/components/ui/button";
import { Card, CardBody, CardHeader } from "@/components/ui/card";
import { serverProblem } from "../common";
import { moduleFields, moduleText } from "./moduleWords";
import { configOf, fieldsOf, valuesOf, zodOf, type FormValues } from "./schemaForm";
import { SchemaFields } from "./SchemaFields";

type Module = AdminModulesQuery["modules"][number];

function problemsOf(error: unknown): string[] {
  const e = error as { graphQLErrors?: { extensions?: { problems?: unknown } }[] } | null;
  const problems = e?.graphQLErrors?.[0]?.extensions?.problems;
  return Array.isArray(problems) ? problems.map(String) : [];
}

export function ModuleConfigForm({ module, onSaved }: { module: Module; onSaved: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const fields = useMemo(() => fieldsOf(module.configSchema), [module.configSchema]);
  const shown = moduleFields(fields, module.name); // labelled in the reader's language; values and checks are the schema's
  const schema = useMemo(() => zodOf(module.configSchema), [module.configSchema]);
  const form = useForm<FormValues>({ resolver: zodResolver(schema) as unknown as Resolver<FormValues>, defaultValues: valuesOf(fields, module.config) });
  const [{ fetching, error }, configure] = useMutation<AdminConfigureModuleMutation, AdminConfigureModuleMutationVariables>(ADMIN_CONFIGURE_MODULE);
  const problems = problemsOf(error);

  const submit = form.handleSubmit(async (values) => {
    const r = await configure({ name: module.name, config: configOf(fields, values) });
    if (r.data) {
      onSaved();
      void navigate("/admin/modules");
    }
  });
  const back = (
    <Button variant="ghost" asChild>
      <Link to="/admin/modules">
        <ArrowLeft aria-hidden /> {t("integrations.modules.back")}
      </Link>
    </Button>
  );
  return (
    <AdminFrame title={t("integrations.modules.configureTitle", { title: moduleText(module.name, "title", module.title) })} description={moduleText(module.name, "description", module.description)} actions={back}>
      <form onSubmit={submit} noValidate className="max-w-2xl space-y-5">
        <Card>
          <CardHeader title={t("integrations.modules.configuration")} description={t("integrations.modules.configurationHint")} />
          <CardBody className="space-y-5">{shown.length ? <SchemaFields fields={shown} form={form} /> : <p className="text-sm text-muted-foreground">{t("integrations.modules.nothingToConfigure")}</p>}</CardBody>
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
