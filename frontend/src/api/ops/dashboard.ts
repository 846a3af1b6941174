// The dashboard (src/routes/dashboard/), its alerts and the notification bell
// (src/components/dashboard/NotificationBell.tsx). Plain string constants only: see README.md.
const KPI_FIELDS = `__typename since resolutions resolutionRate messagesIn messagesOut conversationsStarted
  csatResponses csatAverage csatSatisfiedShare
  firstResponseTime { __typename count avg median p90 p95 } resolutionTime { __typename count avg median p90 p95 }`;
const ROW_FIELDS = `__typename metric bucket hourOfDay count avg median p90 p95 value numerator
  group { __typename platform teamId agentId channelId label }`;
const ALERT_FIELDS = `__typename id ruleId ruleName kind state severity value threshold openedAt lastSeenAt
  acknowledgedAt acknowledgedById resolvedAt`;
const NOTIFICATION_FIELDS = `__typename id kind title body data createdAt readAt`;
const PREFERENCE_FIELDS = `__typename mutedKinds channels slackWebhookUrl timezone quietStart quietEnd`;

/** Live: team load, SLA breaches, open alerts and the 7-day KPIs, sent at once and on every change. */
export const DASHBOARD_UPDATES = `subscription { dashboardUpdates { __typename at slaBreaches alertsOpen
  teams { __typename teamId teamName open queued assigned } kpis { ${KPI_FIELDS} } } }`;

/** The filtered numbers: one row per metric (no grouping, no bucket). */
export const DASHBOARD_METRICS = `query($names: [String!]!, $range: MetricRange!, $filter: MetricFilter, $timeZone: String!) {
  metrics(names: $names, range: $range, filter: $filter, timeZone: $timeZone) { ${ROW_FIELDS} } }`;
/** The same, bucketed (volume over time). */
export const DASHBOARD_SERIES = `query($names: [String!]!, $range: MetricRange!, $filter: MetricFilter, $bucket: MetricBucket!, $timeZone: String!) {
  metrics(names: $names, range: $range, filter: $filter, bucket: $bucket, timeZone: $timeZone) { ${ROW_FIELDS} } }`;
/** The same, grouped by one dimension (platform, channel, team, agent or label). */
export const DASHBOARD_GROUPED = `query($names: [String!]!, $range: MetricRange!, $filter: MetricFilter, $groupBy: [MetricDimension!]!, $timeZone: String!) {
  metrics(names: $names, range: $range, filter: $filter, groupBy: $groupBy, timeZone: $timeZone) { ${ROW_FIELDS} } }`;

/** The filters' choices (teams and people) and the channels' names. */
export const DASHBOARD_DIRECTORY = `query { teams { __typename id name } users { __typename id name isActive role }
  channels { __typename id name } }`;

export const DASHBOARD_ALERTS = `query($states: [String!]) { alerts(states: $states, limit: 50) { ${ALERT_FIELDS} } }`;
export const DASHBOARD_ALERT_EVENTS = `subscription($after: String) { alertEvents(after: $after) { __typename cursor type
  alert { ${ALERT_FIELDS} } } }`;
export const ACKNOWLEDGE_ALERT = `mutation($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`;

export const NOTIFICATIONS = `query { notifications(limit: 30) { ${NOTIFICATION_FIELDS} } }`;
export const NOTIFICATION_EVENTS = `subscription($after: String) { notificationEvents(after: $after) { __typename cursor
  notification { ${NOTIFICATION_FIELDS} } } }`;
export const MARK_NOTIFICATIONS_READ = `mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }`;
export const NOTIFICATION_PREFERENCES = `query { notificationPreferences { ${PREFERENCE_FIELDS} } }`;
export const SAVE_NOTIFICATION_PREFERENCES = `mutation($input: NotificationPreferencesInput!) {
  saveNotificationPreferences(input: $input) { ${PREFERENCE_FIELDS} } }`;
