// The inbox's saved views, the people, teams and channels its filters pick from, and the customer
// panel's merge, split, export and erasure (issue 16). Conversation-shaped documents are in ../operations.ts.
export const SAVED_VIEWS = `query { savedViews { __typename id name query filter count } }`;
export const SAVE_VIEW = `mutation($name: String!, $filter: ConversationFilter, $query: String) {
  saveView(name: $name, filter: $filter, query: $query) { __typename id name query filter count } }`;
export const DELETE_VIEW = `mutation($id: ID!) { deleteView(id: $id) }`;
export const VIEW_COUNTS = `subscription { savedViewCounts { __typename viewId count } }`;
export const FILTER_USERS = `query { users { __typename id name isActive } }`;
export const FILTER_TEAMS = `query { teams { __typename id name memberIds } }`;
export const FILTER_CHANNELS = `query { channels { __typename id name platform } }`;
export const MERGE_CUSTOMERS = `mutation($sourceId: ID!, $targetId: ID!) { mergeCustomers(sourceId: $sourceId, targetId: $targetId) {
  __typename id name phone email identities { __typename id platform channelId externalId displayName phone email lastInboundAt } } }`;
export const SPLIT_IDENTITY = `mutation($identityId: ID!) { splitIdentity(identityId: $identityId) {
  __typename id name phone email identities { __typename id platform channelId externalId displayName phone email lastInboundAt } } }`;
export const FIND_CUSTOMERS = `query($query: String!) { search(query: $query, orderBy: RELEVANCE, first: 20) { __typename
  edges { __typename cursor rank node { __typename id platform customer { __typename id name phone email
  identities { __typename id platform channelId externalId displayName phone email lastInboundAt } } } } } }`;
export const REQUEST_EXPORT = `mutation($customerId: ID!) { requestCustomerExport(customerId: $customerId) {
  __typename id customerId status error createdAt finishedAt downloadUrl downloadExpiresAt } }`;
export const CUSTOMER_EXPORT = `query($id: ID!) { customerExport(id: $id) {
  __typename id customerId status error createdAt finishedAt downloadUrl downloadExpiresAt } }`;
export const SET_CUSTOMER_ATTRIBUTE = `mutation($customerId: ID!, $name: String!, $value: String) {
  setCustomerAttribute(customerId: $customerId, name: $name, value: $value) { __typename id attributes { __typename name value updatedAt } } }`;
export const ERASE_CUSTOMER = `mutation($customerId: ID!, $reason: String!) { eraseCustomer(customerId: $customerId, reason: $reason) {
  __typename customerId conversations identities messages events } }`;
