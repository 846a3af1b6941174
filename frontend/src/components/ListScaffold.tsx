// The settings screens' list page around one query: a skeleton until the first answer, the error
// with a retry when there is none, the empty state when the answer holds nothing, else the content.
// Once an answer is on screen it stays there while the query runs again (a refresh after a change,
// or a retry), so the page never blinks back to the skeleton.
import { useCallback, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, type AnyVariables, type UseQueryArgs } from "urql";
import { ErrorState } from "./ErrorState";
import { Skeleton } from "./ui/misc";

/** A query's state as the list pages use it: from `useListQuery`, or a hook of their own. */
export interface QueryState<T> {
  data: T | null | undefined;
  error: unknown;
  loading: boolean;
  retry: () => void;
}

/** urql's `useQuery` as a QueryState; the retry (stable) asks the network, not the cache. */
export function useListQuery<T, V extends AnyVariables = AnyVariables>(args: UseQueryArgs<V, T>): QueryState<T> {
  const [{ data, error, fetching }, reexecute] = useQuery<T, V>(args);
  const retry = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  return { data, error, loading: fetching, retry };
}

export function ListSkeleton({ rows = 4, className = "h-9" }: { rows?: number; className?: string }) {
  return (
    <div className="space-y-2 rounded-lg border border-border bg-background p-4">
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} className={`${className} w-full`} />
      ))}
    </div>
  );
}

export function ListScaffold<T>({
  state,
  isEmpty,
  empty,
  skeleton,
  label,
  children,
}: {
  state: QueryState<T>;
  /** Whether the answer holds nothing to list (then `empty` shows instead of the content). */
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  /** What stands in for the content while it loads (default: four rows). */
  skeleton?: ReactNode;
  /** What is loading, for screen readers (default: "Loading…"). */
  label?: string;
  children: (data: T) => ReactNode;
}) {
  const { t } = useTranslation();
  const { data, error, loading, retry } = state;
  if (data == null) {
    if (error != null && !loading) return <ErrorState error={error} onRetry={retry} />;
    return (
      <div role="status" aria-busy="true" aria-label={label ?? t("list.loading")} data-list-state="loading">
        {skeleton ?? <ListSkeleton />}
      </div>
    );
  }
  if (isEmpty?.(data)) return <div data-list-state="empty">{empty}</div>;
  return <>{children(data)}</>;
}
