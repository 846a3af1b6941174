// admin/modules: every installed module, its state (a failed one says why), on/off, and its
// configuration (admin/modules/:name).
import { Puzzle, Settings2 } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Navigate, Route, Routes, useParams } from "react-router";
import { useMutation } from "urql";
import type { AdminDisableModuleMutation, AdminEnableModuleMutation, AdminModulesQuery, ModuleStatus } from "@/api/graphql.generated";
import { ADMIN_DISABLE_MODULE, ADMIN_ENABLE_MODULE, ADMIN_MODULES } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold, type QueryState, useListQuery } from "@/components/ListScaffold";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, EmptyState } from "@/components/ui/card";
import { Skeleton } from "@/components/ui/misc";
import { Switch } from "@/components/ui/switch";
import { useActionError } from "../common";
import { ModuleConfigForm } from "./ModuleConfigForm";
import { moduleText } from "./moduleWords";

type Module = AdminModulesQuery["modules"][number];
const STATUS_VARIANT: Record<ModuleStatus, "success" | "outline" | "danger"> = { ENABLED: "success", DISABLED: "outline", FAILED: "danger" };

export default function ModulesPage() {
  const state = useListQuery<AdminModulesQuery>({ query: ADMIN_MODULES });
  const { data, retry: refresh } = state;
  const list = <ModuleList state={state} />;
  return (
    <Routes>
      <Route index element={list} />
      <Route path=":name" element={data ? <Configure modules={data.modules} onSaved={refresh} /> : list} />
    </Routes>
  );
}

function Configure({ modules, onSaved }: { modules: Module[]; onSaved: () => void }) {
  const { name } = useParams();
  const module = modules.find((m) => m.name === name);
  if (!module) return <Navigate to="/admin/modules" replace />;
  return <ModuleConfigForm key={module.name} module={module} onSaved={onSaved} />;
}

function ModuleList({ state }: { state: QueryState<AdminModulesQuery> }) {
  const { t } = useTranslation();
  const onChanged = state.retry;
  const [busy, setBusy] = useState<string | null>(null);
  const [, enable] = useMutation<AdminEnableModuleMutation>(ADMIN_ENABLE_MODULE);
  const [, disable] = useMutation<AdminDisableModuleMutation>(ADMIN_DISABLE_MODULE);
  const { setError, toast } = useActionError();
  const toggle = async (m: Module, on: boolean) => {
    setBusy(m.name);
    const r = on ? await enable({ name: m.name }) : await disable({ name: m.name });
    setBusy(null);
    if (r.error) setError(r.error);
    onChanged();
  };
  return (
    <AdminFrame title={t("integrations.modules.title")} description={t("integrations.modules.description")}>
      <ListScaffold
        state={state}
        isEmpty={(d) => d.modules.length === 0}
        empty={<EmptyState icon={<Puzzle />} title={t("integrations.modules.emptyTitle")} description={t("integrations.modules.emptyText")} />}
        skeleton={
          <div className="grid grid-cols-2 gap-4">
            <Skeleton className="h-40" />
            <Skeleton className="h-40" />
          </div>
        }
      >
        {({ modules }) => (
          <ul className="grid grid-cols-1 gap-4 lg:grid-cols-2">
            {modules.map((m) => (
              <li key={m.name}>
                <Card className="flex h-full flex-col p-5" data-module={m.name}>
                  <div className="flex items-start gap-3">
                    <span className="flex size-10 shrink-0 items-center justify-center rounded-lg bg-primary/10 text-primary">
                      <Puzzle className="size-5" aria-hidden />
                    </span>
                    <div className="min-w-0 flex-1">
                      <div className="flex flex-wrap items-center gap-2">
                        <h2 className="font-semibold">{moduleText(m.name, "title", m.title)}</h2>
                        <Badge variant={STATUS_VARIANT[m.status]} data-module-status={m.status}>
                          {t(`integrations.modules.status.${m.status}`)}
                        </Badge>
                      </div>
                      <p className="font-mono text-xs text-muted-foreground">
                        {m.name}
                        {m.version ? ` · v${m.version}` : ""}
                      </p>
                    </div>
                    <Switch
                      checked={m.enabled}
                      disabled={busy === m.name}
                      onCheckedChange={(on) => void toggle(m, on)}
                      aria-label={t(m.enabled ? "integrations.modules.disableNamed" : "integrations.modules.enableNamed", { title: moduleText(m.name, "title", m.title) })}
                    />
                  </div>
                  <p className="mt-3 text-sm text-muted-foreground">{moduleText(m.name, "description", m.description)}</p>
                  {m.status === "FAILED" && m.failedReason && (
                    <p role="note" className="mt-3 rounded-md bg-danger-soft px-3 py-2 text-xs text-danger-strong">
                      {m.failedReason}
                    </p>
                  )}
                  {m.nodeTypes.length > 0 && (
                    <div className="mt-3 flex flex-wrap items-center gap-1.5 text-xs text-muted-foreground">
                      {t("integrations.modules.nodeTypes")}
                      {m.nodeTypes.map((n) => (
                        <Badge key={n} variant="outline" className="font-mono">
                          {n}
                        </Badge>
                      ))}
                    </div>
                  )}
                  <div className="mt-auto flex justify-end pt-4">
                    {m.configSchema && (
                      <Button variant="outline" size="sm" asChild>
                        <Link to={`/admin/modules/${encodeURIComponent(m.name)}`} aria-label={t("integrations.modules.configureNamed", { title: moduleText(m.name, "title", m.title) })}>
                          <Settings2 aria-hidden /> {t("integrations.modules.configure")}
                        </Link>
                      </Button>
                    )}
                  </div>
                </Card>
              </li>
            ))}
          </ul>
        )}
      </ListScaffold>
      {toast}
    </AdminFrame>
  );
}
