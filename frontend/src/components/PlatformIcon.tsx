import { cn } from "@/lib/utils";

const STYLE: Record<string, { label: string; className: string; short: string }> = {
  WHATSAPP: { label: "WhatsApp", short: "WA", className: "bg-emerald-700" },
  TELEGRAM: { label: "Telegram", short: "TG", className: "bg-sky-700" },
  INSTAGRAM: { label: "Instagram", short: "IG", className: "bg-pink-700" },
  MESSENGER: { label: "Messenger", short: "FB", className: "bg-blue-700" },
  DISCORD: { label: "Discord", short: "DC", className: "bg-indigo-600" },
  SLACK: { label: "Slack", short: "SL", className: "bg-purple-700" },
  WEBCHAT: { label: "Webchat", short: "WC", className: "bg-slate-700" },
  SMS: { label: "SMS", short: "SM", className: "bg-teal-700" },
  EMAIL: { label: "E-mail", short: "@", className: "bg-amber-700" },
  LINE: { label: "LINE", short: "LN", className: "bg-green-700" },
  VIBER: { label: "Viber", short: "VB", className: "bg-violet-700" },
  WECHAT: { label: "WeChat", short: "WX", className: "bg-lime-700" },
};

export function platformLabel(platform: string): string {
  return STYLE[platform]?.label ?? platform.toLowerCase();
}

/** A small round mark for a platform, with its name for screen readers and on hover. */
export function PlatformIcon({ platform, className }: { platform: string; className?: string }) {
  const s = STYLE[platform] ?? { label: platform, short: platform.slice(0, 2), className: "bg-slate-600" };
  return (
    <span
      role="img"
      aria-label={s.label}
      title={s.label}
      className={cn("inline-flex size-4 shrink-0 items-center justify-center rounded-full text-[8px] font-bold text-white ring-2 ring-background", s.className, className)}
    >
      {s.short}
    </span>
  );
}
