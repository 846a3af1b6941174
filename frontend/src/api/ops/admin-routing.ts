// Admin sections: SLA policies, routing rules, and reporting settings (CSAT survey, platform
// prices, conversion labels). Plain string constants only (see README.md here).
const SLA_POLICY_FIELDS = `__typename id name position teamId priority platform firstResponseSeconds nextResponseSeconds
  resolutionSeconds warnBeforeSeconds timezone businessHours holidays`;
const ROUTING_RULE_FIELDS = `__typename id teamId position platform channelId language topic createdAt`;

export const ADMIN_SLA_POLICIES = `query { slaPolicies { ${SLA_POLICY_FIELDS} }
  teams { __typename id name } }`;
export const ADMIN_CREATE_SLA_POLICY = `mutation($input: CreateSlaPolicyInput!) { createSlaPolicy(input: $input) { ${SLA_POLICY_FIELDS} } }`;
export const ADMIN_UPDATE_SLA_POLICY = `mutation($id: ID!, $input: SlaPolicyInput!) { updateSlaPolicy(id: $id, input: $input) { ${SLA_POLICY_FIELDS} } }`;
export const ADMIN_DELETE_SLA_POLICY = `mutation($id: ID!) { deleteSlaPolicy(id: $id) }`;

export const ADMIN_ROUTING_RULES = `query { routingRules { ${ROUTING_RULE_FIELDS} }
  teams { __typename id name } channels { __typename id name platform } }`;
export const ADMIN_ADD_ROUTING_RULE = `mutation($team: ID!, $position: Int!, $platform: Platform, $channel: ID, $language: String, $topic: String) {
  addRoutingRule(teamId: $team, position: $position, platform: $platform, channelId: $channel, language: $language, topic: $topic) }`;
export const ADMIN_UPDATE_ROUTING_RULE = `mutation($id: ID!, $input: RoutingRuleInput!) { updateRoutingRule(id: $id, input: $input) { ${ROUTING_RULE_FIELDS} } }`;
export const ADMIN_DELETE_ROUTING_RULE = `mutation($id: ID!) { deleteRoutingRule(id: $id) }`;
export const ADMIN_REORDER_ROUTING_RULES = `mutation($ids: [ID!]!) { reorderRoutingRules(ruleIds: $ids) { ${ROUTING_RULE_FIELDS} } }`;

export const ADMIN_REPORTING_SETTINGS = `query { channels { __typename id name platform }
  platformPrices { __typename platform kind unit price currency }
  conversionLabels { __typename label value currency } }`;
export const ADMIN_CSAT_SETTINGS = `query($channel: ID!) { csatSettings(channelId: $channel) {
  __typename channelId enabled delaySeconds question windowSeconds commentSeconds } }`;
export const ADMIN_SAVE_CSAT_SETTINGS = `mutation($channel: ID!, $enabled: Boolean!, $delay: Int!, $question: String, $window: Int!, $comment: Int!) {
  saveCsatSettings(channelId: $channel, enabled: $enabled, delaySeconds: $delay, question: $question, windowSeconds: $window, commentSeconds: $comment) {
  __typename channelId enabled delaySeconds question windowSeconds commentSeconds } }`;
export const ADMIN_SAVE_PLATFORM_PRICES = `mutation($prices: [PlatformPriceInput!]!) { savePlatformPrices(prices: $prices) {
  __typename platform kind unit price currency } }`;
export const ADMIN_SAVE_CONVERSION_LABELS = `mutation($labels: [ConversionLabelInput!]!) { saveConversionLabels(labels: $labels) {
  __typename label value currency } }`;
// A team made from the routing rule dialog (a rule needs one; its members are managed elsewhere).
export const ADMIN_ROUTING_CREATE_TEAM = `mutation($name: String!) { saveTeam(name: $name, memberIds: []) { __typename id name } }`;
