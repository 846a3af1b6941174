import type { HTMLAttributes } from "react";
import { cn } from "@/lib/utils";

export function Skeleton({ className, ...props }: HTMLAttributes<HTMLDivElement>) {
  return <div className={cn("animate-pulse rounded-md bg-muted", className)} aria-hidden {...props} />;
}

export function Kbd({ className, ...props }: HTMLAttributes<HTMLElement>) {
  return (
    <kbd
      className={cn("inline-flex h-5 min-w-5 items-center justify-center rounded border border-border bg-muted px-1 font-mono text-[11px] text-muted-foreground", className)}
      {...props}
    />
  );
}

const HUES = ["bg-sky-700", "bg-violet-600", "bg-emerald-700", "bg-amber-700", "bg-rose-600", "bg-indigo-600", "bg-teal-700", "bg-fuchsia-700"];

export function initials(name: string | null | undefined): string {
  const parts = (name ?? "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  return ((parts[0][0] ?? "") + (parts.length > 1 ? parts[parts.length - 1][0] ?? "" : "")).toUpperCase();
}

/** A round avatar with the person's initials, its colour stable per name. */
export function Avatar({ name, className }: { name: string | null | undefined; className?: string }) {
  const key = [...(name ?? "?")].reduce((n, ch) => (n * 31 + ch.charCodeAt(0)) >>> 0, 7);
  return (
    <span
      aria-hidden
      className={cn("inline-flex size-9 shrink-0 items-center justify-center rounded-full text-xs font-semibold text-white", HUES[key % HUES.length], className)}
    >
      {initials(name)}
    </span>
  );
}
