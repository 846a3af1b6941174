// What a message carries besides its text: images, audio, video, documents and stickers (from its
// attachments), a shared location and contact cards (from its metadata), each previewed in place.
import { Download, FileText, MapPin, Paperclip, User } from "lucide-react";
import { useTranslation } from "react-i18next";
import type { Message } from "@/api/types";

type Attachment = NonNullable<Message["attachments"]>[number];
export interface Place { latitude: number; longitude: number; name?: string; address?: string; url?: string }
export interface ContactCard { name?: { formatted_name?: string; first_name?: string }; phones?: { phone?: string; wa_id?: string }[]; emails?: { email?: string }[] }

export function fileSize(bytes: number | null | undefined): string {
  if (!bytes) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A location in the message's metadata (WhatsApp, LINE…), if it is a real one. */
export function placeOf(m: Message): Place | null {
  const p = (m.metadata as { location?: Partial<Place> } | undefined)?.location;
  return p && typeof p.latitude === "number" && typeof p.longitude === "number" ? (p as Place) : null;
}

export function contactsOf(m: Message): ContactCard[] {
  const cards = (m.metadata as { contacts?: unknown } | undefined)?.contacts;
  return Array.isArray(cards) ? cards.filter((c): c is ContactCard => !!c && typeof c === "object") : [];
}

function AttachmentPreview({ a }: { a: Attachment }) {
  const { t } = useTranslation();
  const name = a.filename ?? a.mimeType ?? t(`inbox-plus.kind.${a.kind}`, { defaultValue: a.kind.toLowerCase() });
  if (a.url && (a.kind === "IMAGE" || a.kind === "STICKER"))
    return (
      <a href={a.url} target="_blank" rel="noreferrer" className="block" data-media="image">
        <img src={a.url} alt={a.filename ?? t("inbox-plus.kind.IMAGE")} loading="lazy" className={a.kind === "STICKER" ? "size-28 object-contain" : "max-h-60 rounded-lg object-cover"} />
      </a>
    );
  if (a.url && a.kind === "AUDIO") return <audio controls preload="none" src={a.url} className="h-9 w-64 max-w-full" data-media="audio" aria-label={name} />;
  if (a.url && a.kind === "VIDEO") return <video controls preload="metadata" src={a.url} className="max-h-60 rounded-lg" data-media="video" aria-label={name} />;
  const Icon = a.kind === "DOCUMENT" ? FileText : Paperclip;
  const body = (
    <>
      <span className="flex size-9 shrink-0 items-center justify-center rounded-md bg-background text-muted-foreground ring-1 ring-border"><Icon className="size-4" aria-hidden /></span>
      <span className="min-w-0 flex-1">
        <span className="block truncate text-xs font-medium">{name}</span>
        <span className="block text-[11px] text-muted-foreground">{[a.mimeType, fileSize(a.size)].filter(Boolean).join(" · ") || t("inbox-plus.noPreview")}</span>
      </span>
      {a.url && <Download className="size-4 shrink-0 text-muted-foreground" aria-hidden />}
    </>
  );
  return a.url ? (
    <a href={a.url} target="_blank" rel="noreferrer" download={a.filename ?? true} className="flex w-64 max-w-full items-center gap-2.5 rounded-lg bg-black/5 p-2 hover:bg-black/10" data-media="document">{body}</a>
  ) : (
    <span className="flex w-64 max-w-full items-center gap-2.5 rounded-lg bg-black/5 p-2" data-media="document">{body}</span>
  );
}

export function Media({ m }: { m: Message }) {
  const { t } = useTranslation();
  const place = placeOf(m);
  const contacts = contactsOf(m);
  if (!m.attachments?.length && !place && contacts.length === 0) return null;
  return (
    <div className="mb-1.5 flex flex-col gap-1.5">
      {m.attachments?.map((a, i) => <AttachmentPreview key={i} a={a} />)}
      {place && (
        <a href={place.url ?? `https://www.openstreetmap.org/?mlat=${place.latitude}&mlon=${place.longitude}#map=16/${place.latitude}/${place.longitude}`} target="_blank" rel="noreferrer"
          className="flex w-64 max-w-full items-center gap-2.5 overflow-hidden rounded-lg bg-black/5 p-2 hover:bg-black/10" data-media="location">
          <span className="flex size-9 shrink-0 items-center justify-center rounded-md bg-emerald-100 text-emerald-800"><MapPin className="size-4" aria-hidden /></span>
          <span className="min-w-0">
            <span className="block truncate text-xs font-medium">{place.name ?? t("inbox-plus.location")}</span>
            <span className="block truncate text-[11px] text-muted-foreground">{place.address ?? `${place.latitude.toFixed(5)}, ${place.longitude.toFixed(5)}`}</span>
          </span>
        </a>
      )}
      {contacts.map((c, i) => (
        <span key={i} className="flex w-64 max-w-full items-center gap-2.5 rounded-lg bg-black/5 p-2" data-media="contact">
          <span className="flex size-9 shrink-0 items-center justify-center rounded-full bg-sky-100 text-sky-800"><User className="size-4" aria-hidden /></span>
          <span className="min-w-0">
            <span className="block truncate text-xs font-medium">{c.name?.formatted_name ?? c.name?.first_name ?? t("inbox-plus.contact")}</span>
            <span className="block truncate text-[11px] text-muted-foreground">{[...(c.phones ?? []).map((p) => p.phone ?? p.wa_id), ...(c.emails ?? []).map((e) => e.email)].filter(Boolean).join(" · ")}</span>
          </span>
        </span>
      ))}
    </div>
  );
}

/** Whether the text only repeats what the preview shows (WhatsApp writes "Location: …" for one). */
export function textIsPreview(m: Message): boolean {
  return (m.kind === "LOCATION" && !!placeOf(m)) || (m.kind === "CONTACTS" && contactsOf(m).length > 0);
}
