// A settings section: what it is on the left, its card on the right.
import type { ReactNode } from "react";
import { useId } from "react";
import { Card } from "@/components/ui/card";

export function Section({ title, description, children }: { title: string; description: string; children: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className="grid gap-4 py-8 md:grid-cols-[15rem_1fr] md:gap-10">
      <div>
        <h2 id={id} className="text-sm font-semibold">{title}</h2>
        <p className="mt-1 text-sm text-muted-foreground">{description}</p>
      </div>
      <Card className="p-6">{children}</Card>
    </section>
  );
}

/** A saved change, said once where it happened. */
export function Saved({ children }: { children: ReactNode }) {
  return (
    <p role="status" className="text-sm font-medium text-success-strong">
      {children}
    </p>
  );
}
