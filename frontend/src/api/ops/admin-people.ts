// The Users and Teams admin sections (src/routes/admin-people/): people, their teams, roles,
// capacity and skills; teams with their members and assignment settings.
const PEOPLE_USER_FIELDS = `__typename id name email role isActive presence capacity platformCapacity skills
  seesAllConversations teamIds lastSeenAt invitedUntil`;
const PEOPLE_TEAM_FIELDS = `__typename id name strategy sticky offlineGraceSeconds memberIds`;

export const PEOPLE_USERS = `query { users { ${PEOPLE_USER_FIELDS} } teams { ${PEOPLE_TEAM_FIELDS} } }`;
export const PEOPLE_TEAMS = `query { teams { ${PEOPLE_TEAM_FIELDS} } users { __typename id name email role isActive presence } }`;
export const PEOPLE_KNOWN_SKILLS = `query { knownSkills }`;
// Mutations ask only for what their answer carries (the list query has the rest).
export const PEOPLE_INVITE = `mutation($input: InviteUserInput!) { inviteUser(input: $input) {
  __typename id name email role isActive teamIds invitedUntil } }`;
export const PEOPLE_UPDATE_USER = `mutation($userId: ID!, $input: UpdateUserInput!) {
  updateUser(userId: $userId, input: $input) { __typename id role seesAllConversations teamIds } }`;
export const PEOPLE_UPDATE_AGENT = `mutation($userId: ID!, $capacity: Int, $platformCapacity: JSON, $skills: [String!]) {
  updateAgent(userId: $userId, capacity: $capacity, platformCapacity: $platformCapacity, skills: $skills) {
  __typename id capacity platformCapacity skills } }`;
export const PEOPLE_DEACTIVATE = `mutation($userId: ID!) { deactivateUser(userId: $userId) { __typename id isActive } }`;
export const PEOPLE_REACTIVATE = `mutation($userId: ID!) { reactivateUser(userId: $userId) { __typename id isActive } }`;
export const PEOPLE_SAVE_TEAM = `mutation($teamId: ID, $name: String!, $memberIds: [ID!]!, $strategy: AssignmentStrategy!,
  $sticky: Boolean!, $offlineGraceSeconds: Int!) {
  saveTeam(teamId: $teamId, name: $name, memberIds: $memberIds, strategy: $strategy, sticky: $sticky,
  offlineGraceSeconds: $offlineGraceSeconds) { ${PEOPLE_TEAM_FIELDS} } }`;
export const PEOPLE_DELETE_TEAM = `mutation($id: ID!) { deleteTeam(id: $id) }`;
