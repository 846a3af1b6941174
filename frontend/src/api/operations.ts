// Every GraphQL document the app sends, in one place, as plain string constants: the build
// registers each by the sha256 of its exact text (persisted-operations.json, the server's
// allow-list) and names it for graphql-codegen (src/api/graphql.generated.ts). Every selection set
// below the root lists __typename, so the normalised cache (Graphcache) needs to add nothing and
// the text the app sends is exactly the registered one (src/api/registry.ts checks it). A fields
// constant may be used inside a document, not inside another fields constant (the Python tests
// resolve one level).
const CONVERSATION_FIELDS = `__typename id status platform unreadCount lastMessageAt priority labels snoozedUntil queuedAt teamId
  channel { __typename id } customer { __typename id name phone } assignee { __typename id name }
  lastMessage { __typename id text kind direction status createdAt }
  slaTimers { __typename id kind dueAt warnAt metAt breachedAt cancelledAt }`;
const MESSAGE_FIELDS = `__typename id conversationId platform channelId direction kind text status errorCode errorReason clientMessageId
  createdAt editedAt deletedAt metadata sender { __typename id name } attachments { __typename kind filename mimeType url size }`;
const ACTIVITY_FIELDS = `__typename id type data createdAt actor { __typename id name }`;

export const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken expiresIn user { id name email role } } }`;
export const REFRESH = `mutation($token: String!) {
  refreshToken(refreshToken: $token) { accessToken refreshToken expiresIn user { id name email role } } }`;
export const LOGOUT = `mutation($token: String!) { logout(refreshToken: $token) }`;
export const ME = `query { me { id name email role } }`;
export const INBOX = `query($filter: ConversationFilter, $after: String) { conversations(first: 50, after: $after, filter: $filter) {
  __typename edges { __typename node { ${CONVERSATION_FIELDS} } } pageInfo { __typename hasNextPage endCursor } } }`;
export const CONVERSATION = `query($id: ID!) { conversation(id: $id) { ${CONVERSATION_FIELDS} queuePosition language escalationLevel createdAt
  customer { __typename id name phone email identities { __typename id platform channelId externalId displayName phone email lastInboundAt }
  attributes { __typename name value updatedAt } } } }`;
export const MESSAGES = `query($id: ID!, $before: String) { conversation(id: $id) { __typename id
  messages(last: 50, before: $before) { __typename edges { __typename cursor node { ${MESSAGE_FIELDS} } }
  pageInfo { __typename hasPreviousPage } } } }`;
export const REPLY_TARGETS = `query($id: ID!) { conversation(id: $id) { __typename id
  replyTargets { __typename channelId channelName platform address available reason requiresTemplate isDefault } } }`;
export const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;
export const ASSIGN = `mutation($id: ID!, $user: ID) { assignConversation(conversationId: $id, userId: $user) { ${CONVERSATION_FIELDS} } }`;
export const MARK_READ = `mutation($id: ID!) { markConversationRead(conversationId: $id) { ${CONVERSATION_FIELDS} } }`;
export const DEMO = `query { demo { __typename enabled channels { __typename channelId name phoneNumberId } } }`;
export const SIMULATE = `mutation($channel: ID!, $waId: String!, $name: String!, $text: String!) {
  simulateInboundMessage(channelId: $channel, waId: $waId, name: $name, text: $text) }`;
export const INBOX_EVENTS = `subscription($after: String) { inboxEvents(after: $after) { __typename cursor type
  conversation { ${CONVERSATION_FIELDS} } } }`;
export const CONVERSATION_EVENTS = `subscription($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) { __typename cursor type message { ${MESSAGE_FIELDS} }
  activity { ${ACTIVITY_FIELDS} } customer { __typename id } } }`;
export const ACTIVITIES = `query($id: ID!) { conversation(id: $id) { __typename id status activities { ${ACTIVITY_FIELDS} } } }`;
export const SET_STATUS = `mutation($id: ID!, $status: ConversationStatus!, $until: DateTime) {
  setConversationStatus(conversationId: $id, status: $status, snoozedUntil: $until) { ${CONVERSATION_FIELDS} } }`;
export const SET_PRIORITY = `mutation($id: ID!, $priority: Priority!) {
  setConversationPriority(conversationId: $id, priority: $priority) { ${CONVERSATION_FIELDS} } }`;
export const ADD_NOTE = `mutation($id: ID!, $clientMessageId: String!, $text: String!) {
  addNote(conversationId: $id, clientMessageId: $clientMessageId, text: $text) { ${MESSAGE_FIELDS} } }`;
export const SET_TYPING = `mutation($id: ID!, $typing: Boolean!) { setTyping(conversationId: $id, typing: $typing) }`;
export const PRESENCE = `subscription($id: ID!) { conversationPresence(conversationId: $id) { __typename userId name typing } }`;

// The inbox's search, bulk changes and the conversation's labels, transfer and escalation (issue 16).
export const SEARCH = `query($query: String!, $filter: ConversationFilter, $after: String) {
  search(query: $query, filter: $filter, orderBy: RELEVANCE, first: 30, after: $after) { __typename
  edges { __typename cursor rank node { ${CONVERSATION_FIELDS} } matchedMessage { __typename id text createdAt } }
  pageInfo { __typename hasNextPage endCursor } } }`;
export const BULK_UPDATE = `mutation($input: BulkUpdateInput!) { bulkUpdateConversations(input: $input) { __typename
  updated { ${CONVERSATION_FIELDS} } errors { __typename conversationId code message } } }`;
export const CHANGE_LABELS = `mutation($id: ID!, $add: [String!], $remove: [String!]) {
  changeConversationLabels(conversationId: $id, add: $add, remove: $remove) { ${CONVERSATION_FIELDS} } }`;
export const TRANSFER = `mutation($id: ID!, $reason: String!, $toUserId: ID, $toTeamId: ID) {
  transferConversation(conversationId: $id, reason: $reason, toUserId: $toUserId, toTeamId: $toTeamId) { ${CONVERSATION_FIELDS} } }`;
export const ESCALATE = `mutation($id: ID!, $reason: String!, $toUserId: ID) {
  escalateConversation(conversationId: $id, reason: $reason, toUserId: $toUserId) { ${CONVERSATION_FIELDS} } }`;
export const CUSTOMER_CONVERSATIONS = `query($filter: ConversationFilter) { conversations(first: 20, filter: $filter) {
  __typename edges { __typename node { ${CONVERSATION_FIELDS} } } pageInfo { __typename hasNextPage endCursor } } }`;
