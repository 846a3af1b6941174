// /admin/reporting (admins): the CSAT survey per channel, the platform price table and the
// conversion labels, a tab each.
import { useTranslation } from "react-i18next";
import type { AdminReportingSettingsQuery } from "@/api/graphql.generated";
import { ADMIN_REPORTING_SETTINGS } from "@/api/ops/admin-routing";
import { AdminFrame } from "@/components/AdminFrame";
import { ListScaffold } from "@/components/ListScaffold";
import { Skeleton } from "@/components/ui/misc";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Notice, useNotice } from "../Notice";
import { useAdminData } from "../useAdminData";
import { ConversionsPanel } from "./ConversionsPanel";
import { CsatPanel } from "./CsatPanel";
import { PricesPanel } from "./PricesPanel";

const K = "admin-routing.reporting";

export default function ReportingSection() {
  const { t } = useTranslation();
  const state = useAdminData<AdminReportingSettingsQuery>(ADMIN_REPORTING_SETTINGS);
  const { reload } = state;
  const [notice, setNotice] = useNotice();
  return (
    <AdminFrame title={t(`${K}.title`)} description={t(`${K}.description`)}>
      <ListScaffold state={state} skeleton={<Skeleton className="h-72 w-full max-w-4xl" />}>
        {(data) => (
          <Tabs defaultValue="csat" className="max-w-4xl">
            <TabsList>
              <TabsTrigger value="csat">{t(`${K}.tabs.csat`)}</TabsTrigger>
              <TabsTrigger value="prices">{t(`${K}.tabs.prices`)}</TabsTrigger>
              <TabsTrigger value="conversions">{t(`${K}.tabs.conversions`)}</TabsTrigger>
            </TabsList>
            <TabsContent value="csat">
              <CsatPanel channels={data.channels} onSaved={() => setNotice(t(`${K}.csat.saved`))} />
            </TabsContent>
            <TabsContent value="prices">
              <PricesPanel prices={data.platformPrices} onSaved={() => { setNotice(t(`${K}.prices.saved`)); void reload(); }} />
            </TabsContent>
            <TabsContent value="conversions">
              <ConversionsPanel labels={data.conversionLabels} onSaved={() => { setNotice(t(`${K}.conversions.saved`)); void reload(); }} />
            </TabsContent>
          </Tabs>
        )}
      </ListScaffold>
      <Notice text={notice} />
    </AdminFrame>
  );
}
