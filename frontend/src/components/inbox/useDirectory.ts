// The people, teams and channels the inbox's filters, bulk assign and transfer pick from. Only
// supervisors and admins may list users: an agent picks from themselves and the assignees the
// conversations they can see name.
import { useMemo } from "react";
import { useQuery } from "urql";
import { FILTER_CHANNELS, FILTER_TEAMS, FILTER_USERS } from "@/api/ops/inbox-plus";
import type { FilterChannelsQuery, FilterTeamsQuery, FilterUsersQuery } from "@/api/graphql.generated";
import { useServices } from "@/services";
import { useInbox } from "@/state/inbox";

export interface Person { id: string; name: string }

export function useIsLead(): boolean {
  const { me } = useServices();
  return me.role === "ADMIN" || me.role === "SUPERVISOR";
}

export function useDirectory() {
  const { me } = useServices();
  const lead = useIsLead();
  const [{ data: users }] = useQuery<FilterUsersQuery>({ query: FILTER_USERS, pause: !lead });
  const [{ data: teams }] = useQuery<FilterTeamsQuery>({ query: FILTER_TEAMS });
  const [{ data: channels }] = useQuery<FilterChannelsQuery>({ query: FILTER_CHANNELS });
  const known = useInbox((s) => s.known);
  const people = useMemo<Person[]>(() => {
    if (lead && users) return users.users.filter((u) => u.isActive).map((u) => ({ id: u.id, name: u.name }));
    const seen = new Map<string, string>([[me.id, me.name]]);
    for (const c of Object.values(known)) if (c.assignee) seen.set(c.assignee.id, c.assignee.name);
    return [...seen].map(([id, name]) => ({ id, name }));
  }, [lead, users, known, me.id, me.name]);
  const labels = useMemo(() => [...new Set(Object.values(known).flatMap((c) => c.labels))].sort((a, b) => a.localeCompare(b)), [known]);
  return {
    people: [...people].sort((a, b) => a.name.localeCompare(b.name)),
    teams: teams?.teams ?? [],
    channels: channels?.channels ?? [],
    labels,
    lead,
  };
}
