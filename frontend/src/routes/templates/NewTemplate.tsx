// /templates/new: a template's first version.
import { ArrowLeft, Lock } from "lucide-react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";
import { useClient } from "urql";
import { explain } from "@/api/errors";
import type { TplSaveMutation, TplSaveMutationVariables } from "@/api/graphql.generated";
import { TPL_SAVE } from "@/api/ops/templates";
import { EmptyState } from "@/components/ui/card";
import { PageFrame, useCanEdit } from "./common";
import { toForm, toInput } from "./schema";
import { saveProblem, TemplateForm } from "./TemplateForm";

export function BackLink() {
  const { t } = useTranslation();
  return (
    <Link to="/templates" className="mb-3 inline-flex items-center gap-1 text-sm text-muted-foreground hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring">
      <ArrowLeft className="size-4" aria-hidden /> {t("templates.back")}
    </Link>
  );
}

export function NewTemplate() {
  const { t } = useTranslation();
  const client = useClient();
  const navigate = useNavigate();
  const editor = useCanEdit();
  return (
    <PageFrame sections={false} title={<><BackLink /><span className="block">{t("templates.newTitle")}</span></>} subtitle={t("templates.newSubtitle")}>
      {editor ? (
        <TemplateForm
          initial={toForm(null)}
          saveLabel={t("templates.create")}
          onSave={async (form) => {
            const r = await client.mutation<TplSaveMutation, TplSaveMutationVariables>(TPL_SAVE, { input: toInput(form, null, null) }).toPromise();
            if (r.error || !r.data) return saveProblem(r.error, explain(r.error, t).message);
            navigate(`/templates/${r.data.saveTemplate.id}`, { replace: true });
          }}
        />
      ) : (
        <EmptyState icon={<Lock />} title={t("templates.readOnly")} />
      )}
    </PageFrame>
  );
}
