// A short confirmation after a change ("Policy saved"), announced politely and gone after a while.
import { CheckCircle2 } from "lucide-react";
import { useEffect, useState } from "react";

export function useNotice(): [string | null, (text: string) => void] {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    if (!text) return;
    const timer = setTimeout(() => setText(null), 4000);
    return () => clearTimeout(timer);
  }, [text]);
  return [text, setText];
}

export function Notice({ text }: { text: string | null }) {
  return (
    <div role="status" aria-live="polite" className="pointer-events-none fixed bottom-16 right-6 z-50">
      {text && (
        <p className="flex items-center gap-2 rounded-lg border border-border bg-background px-4 py-2.5 text-sm font-medium shadow-lg">
          <CheckCircle2 className="size-4 text-success" aria-hidden />
          {text}
        </p>
      )}
    </div>
  );
}
