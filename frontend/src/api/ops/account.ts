// The account screens (src/routes/account/): accepting an invitation, forgetting and resetting a
// password (public pages, sent without a session), and one's own name, password and presence.
const ACCOUNT_SESSION_FIELDS = `__typename accessToken refreshToken expiresIn user { __typename id name email role }`;

export const ACCOUNT_ME = `query { me { __typename id name email role presence } }`;
export const ACCOUNT_UPDATE_PROFILE = `mutation($name: String!) { updateMyProfile(name: $name) { __typename id name } }`;
export const ACCOUNT_SET_PRESENCE = `mutation($presence: AgentPresence!) { setMyPresence(presence: $presence) }`;
export const ACCOUNT_CHANGE_PASSWORD = `mutation($currentPassword: String!, $newPassword: String!) {
  changeMyPassword(currentPassword: $currentPassword, newPassword: $newPassword) { ${ACCOUNT_SESSION_FIELDS} } }`;
export const ACCOUNT_ACCEPT_INVITATION = `mutation($token: String!, $password: String!) {
  acceptInvitation(token: $token, password: $password) { ${ACCOUNT_SESSION_FIELDS} } }`;
export const ACCOUNT_REQUEST_RESET = `mutation($email: String!) { requestPasswordReset(email: $email) }`;
export const ACCOUNT_RESET_PASSWORD = `mutation($token: String!, $password: String!) { resetPassword(token: $token, password: $password) }`;
