import { useTranslation } from "react-i18next";
import { useUi } from "@/state/ui";
import { Dialog, DialogContent } from "./ui/dialog";
import { Kbd } from "./ui/misc";

export const SHORTCUTS = [
  { keys: ["j"], label: "shortcuts.next" },
  { keys: ["k"], label: "shortcuts.previous" },
  { keys: ["r"], label: "shortcuts.reply" },
  { keys: ["e"], label: "shortcuts.resolve" },
  { keys: ["/"], label: "shortcuts.search" },
  { keys: ["?"], label: "shortcuts.help" },
] as const;

export function ShortcutsDialog() {
  const { t } = useTranslation();
  const open = useUi((s) => s.helpOpen);
  const setHelp = useUi((s) => s.setHelp);
  return (
    <Dialog open={open} onOpenChange={setHelp}>
      <DialogContent title={t("shortcuts.title")} closeLabel={t("shortcuts.close")}>
        <ul className="divide-y text-sm">
          {SHORTCUTS.map((s) => (
            <li key={s.label} className="flex items-center justify-between py-2">
              <span>{t(s.label)}</span>
              <span className="flex gap-1">{s.keys.map((k) => <Kbd key={k}>{k}</Kbd>)}</span>
            </li>
          ))}
        </ul>
      </DialogContent>
    </Dialog>
  );
}
