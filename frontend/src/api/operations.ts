// Every GraphQL document the app sends, in one place.
const CONVERSATION_FIELDS = `id status platform unreadCount lastMessageAt priority labels snoozedUntil
  customer { id name phone } assignee { id name }
  lastMessage { id text kind direction status createdAt }`;
const MESSAGE_FIELDS = `id conversationId platform channelId direction kind text status errorCode errorReason clientMessageId
  createdAt editedAt deletedAt sender { id name } attachments { kind filename mimeType url }`;

export const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken expiresIn user { id name email role } } }`;
export const REFRESH = `mutation($token: String!) {
  refreshToken(refreshToken: $token) { accessToken refreshToken expiresIn user { id name email role } } }`;
export const LOGOUT = `mutation($token: String!) { logout(refreshToken: $token) }`;
export const ME = `query { me { id name email role } }`;
export const INBOX = `query($filter: ConversationFilter) { conversations(first: 50, filter: $filter) {
  edges { node { ${CONVERSATION_FIELDS} } } } }`;
export const MESSAGES = `query($id: ID!, $before: String) { conversation(id: $id) { id
  messages(last: 50, before: $before) { edges { cursor node { ${MESSAGE_FIELDS} } } pageInfo { hasPreviousPage } } } }`;
export const REPLY_TARGETS = `query($id: ID!) { conversation(id: $id) { id
  replyTargets { channelId channelName platform address available reason requiresTemplate isDefault } } }`;
export const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { ${MESSAGE_FIELDS} } }`;
export const ASSIGN = `mutation($id: ID!, $user: ID) { assignConversation(conversationId: $id, userId: $user) { ${CONVERSATION_FIELDS} } }`;
export const MARK_READ = `mutation($id: ID!) { markConversationRead(conversationId: $id) { ${CONVERSATION_FIELDS} } }`;
export const DEMO = `query { demo { enabled channels { channelId name phoneNumberId } } }`;
export const SIMULATE = `mutation($channel: ID!, $waId: String!, $name: String!, $text: String!) {
  simulateInboundMessage(channelId: $channel, waId: $waId, name: $name, text: $text) }`;
export const INBOX_EVENTS = `subscription($after: String) { inboxEvents(after: $after) { cursor type
  conversation { ${CONVERSATION_FIELDS} } } }`;
const ACTIVITY_FIELDS = `id type data createdAt actor { id name }`;
export const CONVERSATION_EVENTS = `subscription($id: ID!, $after: String) {
  conversationEvents(conversationId: $id, after: $after) { cursor type message { ${MESSAGE_FIELDS} }
  activity { ${ACTIVITY_FIELDS} } } }`;
export const ACTIVITIES = `query($id: ID!) { conversation(id: $id) { id status activities { ${ACTIVITY_FIELDS} } } }`;
export const SET_STATUS = `mutation($id: ID!, $status: ConversationStatus!, $until: DateTime) {
  setConversationStatus(conversationId: $id, status: $status, snoozedUntil: $until) { ${CONVERSATION_FIELDS} } }`;
export const ADD_NOTE = `mutation($id: ID!, $clientMessageId: String!, $text: String!) {
  addNote(conversationId: $id, clientMessageId: $clientMessageId, text: $text) { ${MESSAGE_FIELDS} } }`;
export const SET_TYPING = `mutation($id: ID!, $typing: Boolean!) { setTyping(conversationId: $id, typing: $typing) }`;
export const PRESENCE = `subscription($id: ID!) { conversationPresence(conversationId: $id) { userId name typing } }`;
