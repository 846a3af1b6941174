// The people, teams and channels the inbox's filters, bulk assign and transfer pick from. Only
// supervisors and admins may list users: an agent picks from themselves and the assignees the
// conversations they can see name.
import { useMemo } from "react";
import { useQuery } from "urql";
import { FILTER_CHANNELS, FILTER_TEAMS, FILTER_USERS } from "@/api/ops/inbox-plus";
import type { FilterChannelsQuery, FilterTeamsQuery, FilterUsersQuery } from "@/api/graphql.generated";
import type { Conversation } from "@/api/types";
import { useServices } from "@/services";
import { useInbox } from "@/state/inbox";

export interface Person { id: string; name: string }

const assigneesOf = (known: Record<string, Conversation>) =>
  JSON.stringify([...new Map(Object.values(known).flatMap((c) => (c.assignee ? [[c.assignee.id, c.assignee.name] as const] : [])))].sort());
const labelsOf = (known: Record<string, Conversation>) =>
  JSON.stringify([...new Set(Object.values(known).flatMap((c) => c.labels))].sort((a, b) => a.localeCompare(b)));

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
  // Strings, so a live event that changes no assignee and no label re-renders nothing here.
  const seenKey = useInbox((s) => assigneesOf(s.known));
  const labelsKey = useInbox((s) => labelsOf(s.known));
  const people = useMemo<Person[]>(() => {
    const byName = (a: Person, b: Person) => a.name.localeCompare(b.name);
    if (lead && users) return users.users.filter((u) => u.isActive).map((u) => ({ id: u.id, name: u.name })).sort(byName);
    const seen = new Map<string, string>([[me.id, me.name], ...(JSON.parse(seenKey) as [string, string][])]);
    return [...seen].map(([id, name]) => ({ id, name })).sort(byName);
  }, [lead, users, seenKey, me.id, me.name]);
  const labels = useMemo(() => JSON.parse(labelsKey) as string[], [labelsKey]);
  return {
    people,
    teams: teams?.teams ?? [],
    channels: channels?.channels ?? [],
    labels,
    lead,
  };
}
