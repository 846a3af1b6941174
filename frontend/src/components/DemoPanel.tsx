import { useEffect, useState } from "react";
import { DEMO, SIMULATE } from "../api/operations";
import type { Session } from "../api/session";

interface DemoChannel { channelId: string; name: string; phoneNumberId: string }

/** Demo mode only: play the customer through the fake WhatsApp, which posts a real signed webhook. */
export function DemoPanel({ session, onError }: { session: Session; onError: (e: unknown) => void }) {
  const [channels, setChannels] = useState<DemoChannel[]>([]);
  const [waId, setWaId] = useState("5511999990001");
  const [name, setName] = useState("Demo Customer");
  const [text, setText] = useState("");

  useEffect(() => {
    session
      .request<{ demo: { enabled: boolean; channels: DemoChannel[] } }>(DEMO)
      .then((data) => setChannels(data.demo.enabled ? data.demo.channels : []))
      .catch(() => setChannels([]));
  }, [session]);

  if (channels.length === 0) return null;
  const send = async () => {
    if (!text.trim()) return;
    try {
      await session.request(SIMULATE, { channel: channels[0].channelId, waId, name, text });
      setText("");
    } catch (e) {
      onError(e);
    }
  };
  return (
    <footer className="demo">
      <strong>Play the customer</strong> on {channels[0].name}:
      <input value={waId} onChange={(e) => setWaId(e.target.value)} size={14} title="WhatsApp number (digits)" />
      <input value={name} onChange={(e) => setName(e.target.value)} size={14} />
      <input value={text} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === "Enter" && void send()} placeholder="Customer says…" />
      <button onClick={() => void send()}>Send as customer</button>
    </footer>
  );
}
