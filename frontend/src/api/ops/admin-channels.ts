// Admin → Channels (src/routes/admin-channels/): the list with health, guided creation, edit,
// webhook secret rotation (and the old secret's grace), registering the webhook again, and
// message retention.
const ADMIN_CHANNEL_FIELDS = `__typename id platform name enabled webhookUrl config secretsSet lastWebhookAt lastError lastErrorAt health
  previousSecretAcceptedUntil registersWebhook createdAt`;

export const ADMIN_CHANNELS = `query { channels { ${ADMIN_CHANNEL_FIELDS} } retentionPolicies { __typename channelId messageBodyDays } }`;
export const ADMIN_CREATE_CHANNEL = `mutation($input: CreateChannelInput!) { createChannel(input: $input) { ${ADMIN_CHANNEL_FIELDS} } }`;
export const ADMIN_UPDATE_CHANNEL = `mutation($input: UpdateChannelInput!) { updateChannel(input: $input) { ${ADMIN_CHANNEL_FIELDS} } }`;
export const ADMIN_ROTATE_WEBHOOK_SECRET = `mutation($id: ID!) { rotateWebhookSecret(channelId: $id) { __typename secrets
  channel { ${ADMIN_CHANNEL_FIELDS} } } }`;
export const ADMIN_END_SECRET_GRACE = `mutation($id: ID!) { endWebhookSecretGrace(channelId: $id) { ${ADMIN_CHANNEL_FIELDS} } }`;
export const ADMIN_REGISTER_WEBHOOK = `mutation($id: ID!) { registerChannelWebhook(channelId: $id) { ${ADMIN_CHANNEL_FIELDS} } }`;
export const ADMIN_SET_CHANNEL_RETENTION = `mutation($id: ID!, $days: Int) { setChannelRetention(channelId: $id, messageBodyDays: $days) {
  __typename channelId messageBodyDays } }`;
