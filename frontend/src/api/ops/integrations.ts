// The admin integrations sections: API keys, outgoing webhooks, the audit log, modules and alert
// rules (src/routes/integrations/). Plain string constants only (see README.md here).
const API_KEY_FIELDS = `__typename id name prefix scopes createdById createdAt revokedAt lastUsedAt lastUsedIp`;
const ENDPOINT_FIELDS = `__typename id url description events channelIds platforms enabled allowPrivateNetwork
  disabledReason disabledAt failingSince previousSecretValidUntil createdAt`;
const MODULE_FIELDS = `__typename name title description version enabled status failedReason configSchema config nodeTypes`;
const ALERT_RULE_FIELDS = `__typename id name kind scope scopeValue condition threshold windowSeconds severity cooldownSeconds params enabled`;

export const ADMIN_API_KEYS = `query { apiKeys { ${API_KEY_FIELDS} } users { __typename id name } }`;
export const ADMIN_CREATE_API_KEY = `mutation($name: String!, $scopes: [ApiKeyScope!]!) {
  createApiKey(name: $name, scopes: $scopes) { __typename token key { ${API_KEY_FIELDS} } } }`;
export const ADMIN_REVOKE_API_KEY = `mutation($id: ID!) { revokeApiKey(id: $id) { ${API_KEY_FIELDS} } }`;

export const ADMIN_WEBHOOK_ENDPOINTS = `query { webhookEndpoints { ${ENDPOINT_FIELDS} } channels { __typename id name platform } }`;
export const ADMIN_SAVE_WEBHOOK_ENDPOINT = `mutation($input: WebhookEndpointInput!, $id: ID) {
  saveWebhookEndpoint(input: $input, id: $id) { __typename secret endpoint { ${ENDPOINT_FIELDS} } } }`;
export const ADMIN_DELETE_WEBHOOK_ENDPOINT = `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`;
export const ADMIN_ROTATE_WEBHOOK_ENDPOINT_SECRET = `mutation($id: ID!, $previousValidSeconds: Int!) {
  rotateWebhookEndpointSecret(id: $id, previousValidSeconds: $previousValidSeconds) { __typename secret endpoint { ${ENDPOINT_FIELDS} } } }`;
export const ADMIN_WEBHOOK_DELIVERIES = `query($endpointId: ID!, $status: WebhookDeliveryStatus, $before: String) {
  webhookDeliveries(endpointId: $endpointId, status: $status, before: $before, first: 50) {
    __typename id cursor endpointId eventId eventType conversationId body status attempts nextAttemptAt lastStatusCode lastError
    replayOf createdAt deliveredAt attemptLog { __typename startedAt durationMs statusCode error succeeded } } }`;
export const ADMIN_REPLAY_WEBHOOK_DELIVERIES = `mutation($deliveryId: ID, $endpointId: ID, $since: DateTime, $until: DateTime) {
  replayWebhookDeliveries(deliveryId: $deliveryId, endpointId: $endpointId, since: $since, until: $until) }`;

export const ADMIN_AUDIT_LOG = `query($filter: AuditLogFilter, $after: String) { auditLog(filter: $filter, first: 50, after: $after) {
  __typename edges { __typename cursor node { __typename id action targetType targetId details ip createdAt actorId apiKeyId
  actor { __typename id name } } } pageInfo { __typename hasNextPage endCursor } } }`;
export const ADMIN_AUDIT_ACTORS = `query { users { __typename id name } apiKeys { __typename id name prefix } }`;

export const ADMIN_MODULES = `query { modules { ${MODULE_FIELDS} } }`;
export const ADMIN_ENABLE_MODULE = `mutation($name: String!) { enableModule(name: $name) { ${MODULE_FIELDS} } }`;
export const ADMIN_DISABLE_MODULE = `mutation($name: String!) { disableModule(name: $name) { ${MODULE_FIELDS} } }`;
export const ADMIN_CONFIGURE_MODULE = `mutation($name: String!, $config: JSON!) { configureModule(name: $name, config: $config) { ${MODULE_FIELDS} } }`;

export const ADMIN_ALERT_RULES = `query { alertRules { ${ALERT_RULE_FIELDS} } channels { __typename id name platform }
  teams { __typename id name } users { __typename id name } }`;
export const ADMIN_SAVE_ALERT_RULE = `mutation($input: SaveAlertRuleInput!) { saveAlertRule(input: $input) { ${ALERT_RULE_FIELDS} } }`;
export const ADMIN_DELETE_ALERT_RULE = `mutation($id: ID!) { deleteAlertRule(id: $id) }`;
