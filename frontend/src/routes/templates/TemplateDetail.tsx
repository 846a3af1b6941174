// /templates/:id: one template: edit it (a new version), its versions with diffs and rollback, its
// A/B experiments. Agents see it read-only.
import { Archive, FlaskConical, History, PencilLine } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";
import { useClient, useQuery } from "urql";
import { explain } from "@/api/errors";
import type { TplDetailQuery, TplDetailQueryVariables, TplSaveMutation, TplSaveMutationVariables } from "@/api/graphql.generated";
import { TPL_ARCHIVE, TPL_DETAIL, TPL_SAVE } from "@/api/ops/templates";
import { ErrorState } from "@/components/ErrorState";
import { AlertDialog, AlertDialogContent, AlertDialogTrigger } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/misc";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { useUi } from "@/state/ui";
import { PageFrame, useCanEdit } from "./common";
import { Experiments } from "./Experiments";
import { BackLink } from "./NewTemplate";
import { toForm, toInput } from "./schema";
import { saveProblem, TemplateForm } from "./TemplateForm";
import { Versions } from "./Versions";

export function TemplateDetail() {
  const { id = "" } = useParams();
  const { t, i18n } = useTranslation();
  const client = useClient();
  const editor = useCanEdit();
  const showError = useUi((s) => s.showError);
  const [{ data, error, fetching }, refetch] = useQuery<TplDetailQuery, TplDetailQueryVariables>({ query: TPL_DETAIL, variables: { id } });
  const [tab, setTab] = useState("editor");
  const [formKey, setFormKey] = useState(0);
  const reload = () => {
    refetch({ requestPolicy: "network-only" });
    setFormKey((k) => k + 1);
  };

  if (error) return <PageFrame sections={false} title={<BackLink />}><ErrorState error={error} onRetry={() => refetch({ requestPolicy: "network-only" })} /></PageFrame>;
  const x = data?.template;
  if (!x || (fetching && !data))
    return (
      <PageFrame sections={false} title={<BackLink />}>
        <div className="space-y-3" aria-busy="true"><Skeleton className="h-8 w-1/3" /><Skeleton className="h-64 w-full" /></div>
      </PageFrame>
    );

  const archive = async () => {
    const r = await client.mutation(TPL_ARCHIVE, { id }).toPromise();
    if (r.error) {
      const e = explain(r.error, t);
      return showError(e.detail ?? e.message, e.code);
    }
    reload();
  };

  return (
    <PageFrame
      sections={false}
      title={
        <>
          <BackLink />
          <span className="flex items-center gap-3">
            {x.name}
            {x.shortcut && <code className="rounded-md bg-muted px-2 py-0.5 font-mono text-sm font-normal text-muted-foreground">{x.shortcut}</code>}
            <Badge variant="outline">v{x.version}</Badge>
            {x.archivedAt && <Badge variant="secondary"><Archive aria-hidden /> {t("templates.archived")}</Badge>}
          </span>
        </>
      }
      subtitle={t("templates.usage", { count: x.usageCount, formatted: x.usageCount.toLocaleString(i18n.language) })}
      actions={
        editor && !x.archivedAt && (
          <AlertDialog>
            <AlertDialogTrigger asChild>
              <Button variant="outline"><Archive aria-hidden /> {t("templates.archive")}</Button>
            </AlertDialogTrigger>
            <AlertDialogContent
              title={t("templates.archiveTitle", { name: x.name })}
              description={t("templates.archiveText")}
              cancelLabel={t("templates.cancel")}
              confirmLabel={t("templates.archive")}
              onConfirm={() => void archive()}
            />
          </AlertDialog>
        )
      }
    >
      <Tabs value={tab} onValueChange={setTab}>
        <TabsList>
          <TabsTrigger value="editor"><PencilLine className="size-4" aria-hidden /> {t(editor ? "templates.tab.editor" : "templates.tab.content")}</TabsTrigger>
          <TabsTrigger value="versions"><History className="size-4" aria-hidden /> {t("templates.tab.versions", { count: x.versions.length })}</TabsTrigger>
          {editor && <TabsTrigger value="experiments"><FlaskConical className="size-4" aria-hidden /> {t("templates.tab.experiments")}</TabsTrigger>}
        </TabsList>
        <TabsContent value="editor">
          <TemplateForm
            key={`${x.version}-${formKey}`}
            initial={toForm(x.content)}
            readOnly={!editor}
            saveLabel={t("templates.saveVersion", { version: x.version + 1 })}
            onSave={async (form) => {
              const r = await client.mutation<TplSaveMutation, TplSaveMutationVariables>(TPL_SAVE, { input: toInput(form, x.id, x.content) }).toPromise();
              if (r.error || !r.data) return saveProblem(r.error, explain(r.error, t).message);
              reload();
            }}
          />
        </TabsContent>
        <TabsContent value="versions">
          <Versions key={x.version} template={x} canRollback={editor} onChanged={reload} />
        </TabsContent>
        {editor && (
          <TabsContent value="experiments">
            <Experiments template={x} onChanged={reload} />
          </TabsContent>
        )}
      </Tabs>
    </PageFrame>
  );
}
