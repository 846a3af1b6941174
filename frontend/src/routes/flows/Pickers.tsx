// The name pickers of the nodes that name a team, an agent or a template (transfer, send_message):
// the names from the queries the app already has (teams, users, templates), the id stored.
import { useMemo, useState } from "react";
import { useQuery } from "urql";
import type { FlowDirectoryQuery, FlowTemplateNameQuery, FlowTemplatesQuery } from "@/api/graphql.generated";
import { FLOW_DIRECTORY, FLOW_TEMPLATE_NAME, FLOW_TEMPLATES } from "@/api/ops/flows";
import { NamePicker, type NamePickerProps } from "./NamePicker";
import type { PickItem } from "./pickers";

type PickerProps = Omit<NamePickerProps, "items" | "loaded" | "onQuery">;

function useDirectory() {
  const [{ data, error }] = useQuery<FlowDirectoryQuery>({ query: FLOW_DIRECTORY });
  return { data, loaded: Boolean(data) || Boolean(error) };
}

export function TeamPicker(props: PickerProps) {
  const { data, loaded } = useDirectory();
  const items = useMemo<PickItem[]>(() => (data?.teams ?? []).map((team) => ({ id: team.id, name: team.name })), [data]);
  return <NamePicker {...props} items={items} loaded={loaded} />;
}

export function AgentPicker(props: PickerProps) {
  const { data, loaded } = useDirectory();
  // a deactivated user stays nameable when a node already names them, never offered anew
  const items = useMemo<PickItem[]>(
    () => (data?.users ?? []).filter((u) => u.isActive || u.id === props.value).map((u) => ({ id: u.id, name: u.name, hint: u.email ?? undefined })),
    [data, props.value],
  );
  return <NamePicker {...props} items={items} loaded={loaded} />;
}

export function TemplatePicker(props: PickerProps) {
  const [query, setQuery] = useState("");
  const [{ data, fetching }] = useQuery<FlowTemplatesQuery>({ query: FLOW_TEMPLATES, variables: { query: query.trim() || null } });
  const [{ data: current, error: missing }] = useQuery<FlowTemplateNameQuery>({ query: FLOW_TEMPLATE_NAME, variables: { id: props.value }, pause: !props.value });
  const items = useMemo<PickItem[]>(() => {
    const found = (data?.templates.edges ?? []).map(({ node }) => ({ id: node.id, name: node.name, hint: node.shortcut ? `/${node.shortcut}` : undefined }));
    const chosen = current?.template;
    return chosen && !found.some((i) => i.id === chosen.id) ? [...found, { id: chosen.id, name: chosen.name }] : found;
  }, [data, current]);
  // the stored id's own answer decides "deleted": the search list holds only what matches the text
  const loaded = props.value ? Boolean(current) || Boolean(missing) : !fetching;
  return <NamePicker {...props} items={items} loaded={loaded} onQuery={setQuery} />;
}
