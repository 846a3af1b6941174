// How each node type looks: its icon and accent colour (palette, canvas cards, forms).
import {
  Bell, Clock, CornerUpRight, GitBranch, Globe, HelpCircle, ListChecks, MessageSquare, OctagonX,
  PenLine, Puzzle, Square, Zap, type LucideIcon,
} from "lucide-react";

export const ICONS: Record<string, LucideIcon> = {
  trigger: Zap,
  send_message: MessageSquare,
  ask: HelpCircle,
  buttons: ListChecks,
  condition: GitBranch,
  set: PenLine,
  http_request: Globe,
  wait: Clock,
  transfer: CornerUpRight,
  escalate: Bell,
  close: OctagonX,
  end: Square,
};

export const ACCENTS: Record<string, string> = {
  trigger: "bg-amber-100 text-amber-800",
  send_message: "bg-sky-100 text-sky-800",
  ask: "bg-violet-100 text-violet-800",
  buttons: "bg-violet-100 text-violet-800",
  condition: "bg-orange-100 text-orange-800",
  set: "bg-emerald-100 text-emerald-800",
  http_request: "bg-indigo-100 text-indigo-800",
  wait: "bg-slate-100 text-slate-700",
  transfer: "bg-teal-100 text-teal-800",
  escalate: "bg-rose-100 text-rose-800",
  close: "bg-zinc-200 text-zinc-800",
  end: "bg-zinc-200 text-zinc-800",
};

/** A module's node type (moduleKinds.ts): a puzzle piece in the modules' colour. */
export const MODULE_ACCENT = "bg-fuchsia-100 text-fuchsia-800";

export const iconOf = (kind: string): LucideIcon => ICONS[kind] ?? Puzzle;
