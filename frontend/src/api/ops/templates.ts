// The templates screen's and the composer's documents (src/routes/templates/, src/components/Composer.tsx).
const TPL_CONTENT = `__typename name shortcut category tags teamIds locale timeZone body
  buttons { __typename id title url }
  variants { __typename platform body subject buttons { __typename id title url } }
  prompts { __typename name label }`;
const TPL_SUMMARY = `__typename id name shortcut category tags body version usageCount myUsageCount archivedAt updatedAt`;
const TPL_EXPERIMENT = `__typename id templateId version startedAt stoppedAt running alpha promotedArm promotedVersion`;
const TPL_RATE = `__typename successes conversations rate low high`;
const TPL_COMPARISON = `__typename difference low high pValue significant`;

export const TPL_LIST = `query($query: String, $category: String, $tag: String, $archived: Boolean!, $after: String) {
  templates(query: $query, category: $category, tag: $tag, includeArchived: $archived, first: 100, after: $after) {
    __typename edges { __typename cursor node { ${TPL_SUMMARY} } } pageInfo { __typename hasNextPage endCursor } } }`;
export const TPL_DETAIL = `query($id: ID!) { template(id: $id) { ${TPL_SUMMARY} createdAt content { ${TPL_CONTENT} }
  versions { __typename version note createdAt createdById content { ${TPL_CONTENT} } } } }`;
export const TPL_DIFF = `query($id: ID!, $from: Int!, $to: Int!) { template(id: $id) { __typename id
  diff(fromVersion: $from, toVersion: $to) { __typename fromVersion toVersion changedFields unified } } }`;
export const TPL_SAVE = `mutation($input: SaveTemplateInput!) { saveTemplate(input: $input) { ${TPL_SUMMARY} content { ${TPL_CONTENT} } } }`;
export const TPL_ARCHIVE = `mutation($id: ID!) { archiveTemplate(id: $id) { ${TPL_SUMMARY} } }`;
export const TPL_ROLLBACK = `mutation($id: ID!, $version: Int!) { rollbackTemplate(id: $id, version: $version) { ${TPL_SUMMARY} content { ${TPL_CONTENT} } } }`;
export const TPL_RENDER = `query($id: ID!, $conversationId: ID!, $channelId: ID, $variables: JSON) {
  renderTemplate(id: $id, conversationId: $conversationId, channelId: $channelId, variables: $variables) {
    __typename templateId version variant platform channelId text subject problems arm buttons { __typename id title url } } }`;
export const TPL_EXPERIMENTS = `query($templateId: ID!) { templateExperiments(templateId: $templateId) { ${TPL_EXPERIMENT} } }`;
export const TPL_EXPERIMENT_REPORT = `query($id: ID!) { templateExperiment(id: $id) { __typename id templateId version startedAt stoppedAt running alpha
  promotedArm promotedVersion winner method
  arms { __typename name body weight conversations meanReplySeconds
    replied { ${TPL_RATE} } resolved { ${TPL_RATE} }
    repliedVsControl { ${TPL_COMPARISON} } resolvedVsControl { ${TPL_COMPARISON} } } } }`;
export const TPL_START_EXPERIMENT = `mutation($input: StartTemplateExperimentInput!) { startTemplateExperiment(input: $input) { ${TPL_EXPERIMENT} } }`;
export const TPL_STOP_EXPERIMENT = `mutation($id: ID!) { stopTemplateExperiment(id: $id) { ${TPL_EXPERIMENT} } }`;
export const TPL_PROMOTE = `mutation($id: ID!, $arm: String!) { promoteTemplateVariant(id: $id, arm: $arm) {
  __typename experiment { ${TPL_EXPERIMENT} } template { ${TPL_SUMMARY} } } }`;
export const TPL_CHANNELS = `query { channels { __typename id platform name enabled } }`;
export const TPL_WHATSAPP = `query($channelId: ID!, $status: WhatsappTemplateStatus) {
  whatsappTemplates(channelId: $channelId, status: $status) { __typename channelId name language category status statusReason
    statusChangedAt parameterFormat components syncedAt parameters { __typename part type name optional } } }`;
export const TPL_WHATSAPP_SYNC = `mutation($channelId: ID!) { syncWhatsappTemplates(channelId: $channelId) { __typename channelId count removed syncedAt } }`;
export const TPL_PICK = `query($query: String) { templates(query: $query, first: 8) { __typename edges { __typename node {
  __typename id name shortcut body usageCount myUsageCount content { __typename prompts { __typename name label } } } } } }`;
