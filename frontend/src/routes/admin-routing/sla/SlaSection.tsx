// /admin/sla: the policies (index) and the editor (new, edit?id=).
import { Route, Routes } from "react-router";
import { SlaEditorPage } from "./SlaEditorPage";
import { SlaList } from "./SlaList";

export default function SlaSection() {
  return (
    <Routes>
      <Route index element={<SlaList />} />
      <Route path="new" element={<SlaEditorPage />} />
      <Route path="edit" element={<SlaEditorPage />} />
    </Routes>
  );
}
