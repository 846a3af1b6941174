// /templates: the response templates (list, editor, versions, experiments) and the WhatsApp
// approved templates. Agents read; supervisors and admins edit (schema/permissions.py decides).
import { Route, Routes } from "react-router";
import { TemplateDetail } from "./TemplateDetail";
import { TemplateList } from "./TemplateList";
import { NewTemplate } from "./NewTemplate";
import { WhatsappTemplates } from "./WhatsappTemplates";

export default function TemplatesPage() {
  return (
    <main className="flex min-w-0 flex-1 flex-col overflow-y-auto bg-muted/30">
      <Routes>
        <Route index element={<TemplateList />} />
        <Route path="whatsapp" element={<WhatsappTemplates />} />
        <Route path="new" element={<NewTemplate />} />
        <Route path=":id/*" element={<TemplateDetail />} />
      </Routes>
    </main>
  );
}
