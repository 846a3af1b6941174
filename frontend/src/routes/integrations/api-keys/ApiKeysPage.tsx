// admin/api-keys: every key (prefix, scopes, who made it, last use, revoked), create one (the key
// shown once), revoke one after a confirmation.
import { KeyRound, Plus } from "lucide-react";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation } from "urql";
import type { AdminApiKeysQuery, AdminRevokeApiKeyMutation, AdminRevokeApiKeyMutationVariables } from "@/api/graphql.generated";
import { ADMIN_API_KEYS, ADMIN_REVOKE_API_KEY } from "@/api/ops/integrations";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold, useListQuery } from "@/components/ListScaffold";
import { AlertDialog, AlertDialogContent } from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/card";
import { Table, TBody, Td, Th, THead, Tr } from "@/components/ui/table";
import { Tooltip } from "@/components/ui/tooltip";
import { useActionError, useFormatDate } from "../common";
import { CreateKeyDialog } from "./CreateKeyDialog";
import { scopeName } from "./scopes";

type Key = AdminApiKeysQuery["apiKeys"][number];
const SHOWN_SCOPES = 3;

export default function ApiKeysPage() {
  const { t } = useTranslation();
  const date = useFormatDate();
  const state = useListQuery<AdminApiKeysQuery>({ query: ADMIN_API_KEYS });
  const { data, retry: refresh } = state;
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const [, revoke] = useMutation<AdminRevokeApiKeyMutation, AdminRevokeApiKeyMutationVariables>(ADMIN_REVOKE_API_KEY);
  const { setError, toast } = useActionError();
  const names = useMemo(() => new Map((data?.users ?? []).map((u) => [u.id, u.name])), [data]);

  const confirmRevoke = async () => {
    if (!revoking) return;
    const result = await revoke({ id: revoking.id });
    setRevoking(null);
    if (result.error) setError(result.error);
    refresh();
  };
  const newKey = (
    <Button onClick={() => setCreating(true)}>
      <Plus aria-hidden /> {t("integrations.apiKeys.new")}
    </Button>
  );

  return (
    <AdminFrame title={t("integrations.apiKeys.title")} description={t("integrations.apiKeys.description")} actions={newKey}>
      <ListScaffold
        state={state}
        isEmpty={(d) => d.apiKeys.length === 0}
        empty={<EmptyState icon={<KeyRound />} title={t("integrations.apiKeys.emptyTitle")} description={t("integrations.apiKeys.emptyText")} action={newKey} />}
      >
        {(data) => (
          <Table aria-label={t("integrations.apiKeys.title")}>
            <THead>
              <Tr>
                <Th>{t("integrations.apiKeys.name")}</Th>
                <Th>{t("integrations.apiKeys.scopes")}</Th>
                <Th>{t("integrations.apiKeys.created")}</Th>
                <Th>{t("integrations.apiKeys.lastUsed")}</Th>
                <Th>{t("integrations.common.status")}</Th>
                <Th>
                  <span className="sr-only">{t("integrations.common.actions")}</span>
                </Th>
              </Tr>
            </THead>
            <TBody>
              {data.apiKeys.map((key) => (
                <Tr key={key.id} data-api-key={key.name} className={key.revokedAt ? "text-muted-foreground" : undefined}>
                  <Td>
                    <div className="font-medium text-foreground">{key.name}</div>
                    <code className="font-mono text-xs text-muted-foreground">{key.prefix}…</code>
                  </Td>
                  <Td>
                    <div className="flex max-w-xs flex-wrap gap-1">
                      {key.scopes.slice(0, SHOWN_SCOPES).map((s) => (
                        <Badge key={s} variant="outline" className="font-mono">
                          {scopeName(s)}
                        </Badge>
                      ))}
                      {key.scopes.length > SHOWN_SCOPES && (
                        <Tooltip content={key.scopes.slice(SHOWN_SCOPES).map(scopeName).join(", ")}>
                          <Badge variant="secondary" tabIndex={0}>
                            {t("integrations.apiKeys.more", { count: key.scopes.length - SHOWN_SCOPES })}
                          </Badge>
                        </Tooltip>
                      )}
                    </div>
                  </Td>
                  <Td className="whitespace-nowrap">
                    <div>{date(key.createdAt)}</div>
                    <div className="text-xs text-muted-foreground">{t("integrations.apiKeys.by", { name: names.get(key.createdById) ?? "—" })}</div>
                  </Td>
                  <Td className="whitespace-nowrap">
                    {key.lastUsedAt ? (
                      <>
                        <div>{date(key.lastUsedAt)}</div>
                        <div className="font-mono text-xs text-muted-foreground">{key.lastUsedIp ?? ""}</div>
                      </>
                    ) : (
                      <span className="text-muted-foreground">{t("integrations.apiKeys.never")}</span>
                    )}
                  </Td>
                  <Td>
                    {key.revokedAt ? (
                      <Tooltip content={date(key.revokedAt)}>
                        <Badge variant="danger" tabIndex={0} data-status="revoked">
                          {t("integrations.apiKeys.revoked")}
                        </Badge>
                      </Tooltip>
                    ) : (
                      <Badge variant="success" data-status="active">
                        {t("integrations.apiKeys.active")}
                      </Badge>
                    )}
                  </Td>
                  <Td className="text-right">
                    {!key.revokedAt && (
                      <Button variant="outline" size="sm" onClick={() => setRevoking(key)} aria-label={t("integrations.apiKeys.revokeNamed", { name: key.name })}>
                        {t("integrations.apiKeys.revoke")}
                      </Button>
                    )}
                  </Td>
                </Tr>
              ))}
            </TBody>
          </Table>
        )}
      </ListScaffold>
      <CreateKeyDialog open={creating} onOpenChange={setCreating} onCreated={refresh} />
      <AlertDialog open={revoking !== null} onOpenChange={(open) => !open && setRevoking(null)}>
        <AlertDialogContent
          title={t("integrations.apiKeys.revokeTitle", { name: revoking?.name ?? "" })}
          description={t("integrations.apiKeys.revokeText")}
          cancelLabel={t("integrations.common.cancel")}
          confirmLabel={t("integrations.apiKeys.revoke")}
          onConfirm={() => void confirmRevoke()}
        />
      </AlertDialog>
      {toast}
    </AdminFrame>
  );
}
