import { useEffect, useState } from "react";

/** The current time, updated every `everyMs`: SLA badges and "5 min ago" move by themselves. */
export function useNow(everyMs = 15_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
