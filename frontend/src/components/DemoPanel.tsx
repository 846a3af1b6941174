import { FlaskConical, Send } from "lucide-react";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useMutation, useQuery } from "urql";
import { explain } from "@/api/errors";
import { DEMO, SIMULATE } from "@/api/operations";
import { useUi } from "@/state/ui";
import { Button } from "./ui/button";
import { Input } from "./ui/input";

interface DemoChannel { channelId: string; name: string; phoneNumberId: string }

/** Demo mode only: play the customer through the fake WhatsApp, which posts a real signed webhook. */
export function DemoPanel() {
  const { t } = useTranslation();
  const [{ data }] = useQuery<{ demo: { enabled: boolean; channels: DemoChannel[] } }>({ query: DEMO });
  const [, simulate] = useMutation(SIMULATE);
  const showError = useUi((s) => s.showError);
  const [waId, setWaId] = useState("5511999990001");
  const [name, setName] = useState("Demo Customer");
  const [text, setText] = useState("");
  const channel = data?.demo.enabled ? data.demo.channels[0] : undefined;
  if (!channel) return null;
  const send = async () => {
    if (!text.trim()) return;
    const result = await simulate({ channel: channel.channelId, waId, name, text });
    if (result.error) {
      const e = explain(result.error, t);
      showError(e.message, e.code);
    } else setText("");
  };
  return (
    <section aria-label={t("demo.title")} className="flex items-center gap-2 border-t border-amber-200 bg-amber-50 px-4 py-2 text-sm">
      <FlaskConical className="size-4 text-amber-700" aria-hidden />
      <strong className="whitespace-nowrap font-medium text-amber-900">{t("demo.title")}</strong>
      <span className="whitespace-nowrap text-amber-800">{t("demo.on", { channel: channel.name })}</span>
      <Input value={waId} onChange={(e) => setWaId(e.target.value)} className="h-8 w-36 bg-white" aria-label={t("demo.number")} />
      <Input value={name} onChange={(e) => setName(e.target.value)} className="h-8 w-36 bg-white" aria-label={t("demo.name")} />
      <Input value={text} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === "Enter" && void send()} placeholder={t("demo.says")} aria-label={t("demo.says")} className="h-8 flex-1 bg-white" />
      <Button size="sm" variant="outline" className="bg-white" onClick={() => void send()}>
        <Send aria-hidden /> {t("demo.send")}
      </Button>
    </section>
  );
}
