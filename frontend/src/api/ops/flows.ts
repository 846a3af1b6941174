// The flow builder's documents (src/routes/flows/). Node ids are aliased (`nodeId: id`): a node's
// id is unique only inside its version, so the normalised cache must embed nodes, not key them.
const FLOW_FIELDS = `__typename id name version publishedVersion publishedAt resumeWithinMinutes createdAt updatedAt`;
const GRAPH_FIELDS = `nodes { __typename nodeId: id type config position { __typename x y } }
  edges { __typename from to port condition }`;
const EXECUTION_FIELDS = `__typename id flowId flowVersion conversationId status currentNode waitingFor variables
  trigger reason handedOffAt startedAt updatedAt finishedAt`;

export const FLOWS = `query { flows { ${FLOW_FIELDS} } }`;
export const FLOW_RUN_COUNT = `query($flowId: ID!) { flowExecutions(flowId: $flowId, first: 100) { __typename id status } }`;
export const FLOW = `query($id: ID!) { flow(id: $id) { ${FLOW_FIELDS}
  definition { __typename version note createdAt ${GRAPH_FIELDS} }
  versions { __typename version note createdAt createdById } } }`;
export const FLOW_VERSION = `query($id: ID!, $version: Int!) { flow(id: $id) { __typename id
  definition(version: $version) { __typename version note createdAt ${GRAPH_FIELDS} } } }`;
export const SAVE_FLOW = `mutation($input: SaveFlowInput!) { saveFlow(input: $input) { ${FLOW_FIELDS}
  versions { __typename version note createdAt createdById } } }`;
export const PUBLISH_FLOW = `mutation($id: ID!, $version: Int) { publishFlow(id: $id, version: $version) { ${FLOW_FIELDS} } }`;
export const UNPUBLISH_FLOW = `mutation($id: ID!) { unpublishFlow(id: $id) { ${FLOW_FIELDS} } }`;
export const FLOW_EXECUTIONS = `query($flowId: ID!) { flowExecutions(flowId: $flowId, first: 50) { ${EXECUTION_FIELDS} } }`;
export const CANCEL_FLOW_EXECUTION = `mutation($id: ID!) { cancelFlowExecution(id: $id) { ${EXECUTION_FIELDS} } }`;
export const SIMULATE_FLOW = `mutation($definition: FlowDefinitionInput!, $script: [String!]!, $platform: Platform!, $customer: JSON) {
  simulateFlow(definition: $definition, script: $script, platform: $platform, customer: $customer) { __typename status node variables unusedMessages
  transcript { __typename from text node details } steps { __typename event actions node status variables } } }`;
// The node types the enabled modules add (palette and forms), and the names the pickers show.
export const FLOW_NODE_TYPES = `query { flowNodeTypes { __typename name module moduleTitle description configSchema ports } }`;
export const FLOW_DIRECTORY = `query { teams { __typename id name } users { __typename id name email isActive } }`;
export const FLOW_TEMPLATES = `query($query: String) { templates(query: $query, first: 20) { __typename edges { __typename node {
  __typename id name shortcut } } } }`;
export const FLOW_TEMPLATE_NAME = `query($id: ID!) { template(id: $id) { __typename id name shortcut } }`;
