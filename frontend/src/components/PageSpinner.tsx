import { Loader2 } from "lucide-react";

export function PageSpinner() {
  return (
    <div className="flex h-full items-center justify-center text-muted-foreground" role="status" aria-label="Loading">
      <Loader2 className="size-6 animate-spin" aria-hidden />
    </div>
  );
}
