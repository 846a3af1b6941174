/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type AgentPresence =
  | 'AWAY'
  | 'OFFLINE'
  | 'ONLINE';

export type ApiKeyScope =
  | 'AUDIT_READ'
  | 'CHANNELS_MANAGE'
  | 'CHANNELS_READ'
  | 'CONVERSATIONS_READ'
  | 'CONVERSATIONS_WRITE'
  | 'CUSTOMERS_WRITE'
  | 'FLOWS_MANAGE'
  | 'FLOWS_READ'
  | 'MESSAGES_SEND'
  | 'METRICS_READ'
  | 'PRIVACY_MANAGE'
  | 'TEAMS_MANAGE'
  | 'TEAMS_READ'
  | 'TEMPLATES_MANAGE'
  | 'TEMPLATES_READ'
  | 'USERS_READ'
  | 'WEBHOOKS_MANAGE';

export type AssignmentStrategy =
  | 'LEAST_LOADED'
  | 'MANUAL'
  | 'ROUND_ROBIN';

export type AuditLogFilter = {
  /** Exact, or a prefix ending in "." ("channel." for every channel action). */
  action?: string | null | undefined;
  /** A User or an ApiKey id. */
  actor?: string | null | undefined;
  /** At or after. */
  from?: string | null | undefined;
  /** The target's id: the API's global id, or the database id with targetType. */
  targetId?: string | null | undefined;
  /** e.g. "Channel", "Customer". */
  targetType?: string | null | undefined;
  /** Before. */
  to?: string | null | undefined;
};

export type BulkUpdateInput = {
  addLabels?: Array<string> | null | undefined;
  assigneeId?: string | null | undefined;
  conversationIds: Array<string>;
  priority?: Priority | null | undefined;
  removeLabels?: Array<string> | null | undefined;
  /** Any status but SNOOZED. */
  status?: ConversationStatus | null | undefined;
  unassign?: boolean;
};

export type ButtonInput = {
  /** Comes back as the customer's POSTBACK payload. */
  id: string;
  title: string;
  /** A link button instead of a reply button. */
  url?: string | null | undefined;
};

/** A channel's connection health, from its last webhook and last error. */
export type ChannelHealth =
  | 'DISABLED'
  | 'ERROR'
  | 'OK'
  | 'WAITING';

export type ConversationEventType =
  | 'ACTIVITY_ADDED'
  | 'CUSTOMER_UPDATED'
  | 'MESSAGE_CREATED'
  | 'MESSAGE_UPDATED';

export type ConversationFilter = {
  assigneeId?: string | null | undefined;
  channelId?: string | null | undefined;
  /** One customer's conversations (after a merge: the merged customer's too). */
  customerId?: string | null | undefined;
  /** Escalated at least once (or never). */
  escalated?: boolean | null | undefined;
  /** Conversations carrying all of these labels. */
  labels?: Array<string> | null | undefined;
  platform?: Platform | null | undefined;
  priority?: Array<Priority> | null | undefined;
  /** Last activity at or after. */
  since?: string | null | undefined;
  status?: Array<ConversationStatus> | null | undefined;
  teamId?: string | null | undefined;
  /** The last message is the customer's (waiting for an answer). */
  unanswered?: boolean | null | undefined;
  unassigned?: boolean;
  /** Last activity before. */
  until?: string | null | undefined;
};

export type ConversationStatus =
  | 'CLOSED'
  | 'OPEN'
  | 'PENDING'
  | 'RESOLVED'
  | 'SNOOZED';

export type ConversionLabelInput = {
  currency: string;
  label: string;
  value: string;
};

export type CreateChannelInput = {
  /** Public settings, e.g. {phone_number_id, api_base, api_version}. */
  config: Record<string, unknown>;
  name: string;
  platform: Platform;
  /** Write-only, encrypted at rest, e.g. {app_secret, access_token, verify_token}. */
  secrets: Record<string, unknown>;
};

export type CreateSlaPolicyInput = {
  businessHours?: Record<string, unknown> | null | undefined;
  firstResponseSeconds?: number | null | undefined;
  holidays?: Array<unknown> | null | undefined;
  name: string;
  nextResponseSeconds?: number | null | undefined;
  platform?: Platform | null | undefined;
  position?: number;
  priority?: Priority | null | undefined;
  resolutionSeconds?: number | null | undefined;
  teamId?: string | null | undefined;
  timezone?: string;
  warnBeforeSeconds?: number;
};

export type CustomerExportStatus =
  | 'ERASED'
  | 'EXPIRED'
  | 'FAILED'
  | 'PENDING'
  | 'READY';

export type ExperimentArmInput = {
  /** Null: the template's current body. */
  body?: string | null | undefined;
  /** A, B, … when left out. */
  name?: string | null | undefined;
  /** Share of conversations, 1 to 1000. */
  weight?: number;
};

export type FlowDefinitionInput = {
  edges: Array<FlowEdgeInput>;
  nodes: Array<FlowNodeInput>;
};

export type FlowEdgeInput = {
  condition?: Record<string, unknown> | null | undefined;
  from: string;
  /** Null: next. */
  port?: string | null | undefined;
  to: string;
};

export type FlowNodeInput = {
  /** The node type's settings (README: Flows). */
  config?: Record<string, unknown> | null | undefined;
  id: string;
  position?: FlowPositionInput | null | undefined;
  type: string;
};

export type FlowPositionInput = {
  x?: number;
  y?: number;
};

export type InboxEventType =
  | 'CONVERSATION_CREATED'
  | 'CONVERSATION_REMOVED'
  | 'CONVERSATION_UPDATED';

export type InviteUserInput = {
  email: string;
  name: string;
  role: Role;
  teamIds?: Array<string>;
};

export type MessageDirection =
  | 'INBOUND'
  | 'NOTE'
  | 'OUTBOUND';

export type MessageKind =
  | 'AUDIO'
  | 'CONTACTS'
  | 'DOCUMENT'
  | 'IMAGE'
  | 'INTERACTIVE'
  | 'LOCATION'
  | 'POSTBACK'
  | 'REACTION'
  | 'STICKER'
  | 'TEMPLATE'
  | 'TEXT'
  | 'UNSUPPORTED'
  | 'VIDEO';

export type MessageStatus =
  | 'DELIVERED'
  | 'FAILED'
  | 'POSTED'
  | 'QUEUED'
  | 'READ'
  | 'RECEIVED'
  | 'SENT';

export type MetricBucket =
  | 'DAY'
  | 'HOUR'
  | 'HOUR_OF_DAY'
  | 'WEEK';

export type MetricDimension =
  | 'AGENT'
  | 'ARM'
  | 'CHANNEL'
  | 'FLOW'
  | 'LABEL'
  | 'NODE'
  | 'PLATFORM'
  | 'TEAM'
  | 'TEMPLATE';

export type MetricFilter = {
  /** User ids. */
  agentIds?: Array<string> | null | undefined;
  channelIds?: Array<string> | null | undefined;
  label?: string | null | undefined;
  platforms?: Array<Platform> | null | undefined;
  teamIds?: Array<string> | null | undefined;
};

export type MetricRange = {
  /** Counted from the first hour starting at or after. */
  from: string;
  /** Up to the hours starting before this. */
  to: string;
};

/** FAILED: it failed to load, or a handler failed; enabling it again retries. */
export type ModuleStatus =
  | 'DISABLED'
  | 'ENABLED'
  | 'FAILED';

export type NotificationPreferencesInput = {
  channels?: Array<string>;
  mutedKinds?: Array<string>;
  quietEnd?: string | null | undefined;
  quietStart?: string | null | undefined;
  slackWebhookUrl?: string | null | undefined;
  timezone?: string;
};

export type OutboundAttachmentInput = {
  filename?: string | null | undefined;
  /** IMAGE, AUDIO, VIDEO, DOCUMENT or STICKER */
  kind: MessageKind;
  mimeType?: string | null | undefined;
  /** Public http(s) URL the platform fetches. */
  url: string;
};

export type Platform =
  | 'DISCORD'
  | 'EMAIL'
  | 'INSTAGRAM'
  | 'LINE'
  | 'MESSENGER'
  | 'SLACK'
  | 'SMS'
  | 'TELEGRAM'
  | 'VIBER'
  | 'WEBCHAT'
  | 'WECHAT'
  | 'WHATSAPP';

export type PlatformPriceInput = {
  currency: string;
  kind: string;
  platform: Platform;
  price: string;
  unit?: string;
};

export type Priority =
  | 'HIGH'
  | 'LOW'
  | 'NORMAL'
  | 'URGENT';

/** One of our response templates (see `templates`), filled in when sent. */
export type ResponseTemplateInput = {
  id: string;
  /** Values for the template's prompts, e.g. {"pedido": "A-1023"}. */
  variables?: Record<string, unknown> | null | undefined;
};

export type Role =
  | 'ADMIN'
  | 'AGENT'
  | 'SUPERVISOR';

export type RoutingRuleInput = {
  channelId?: string | null | undefined;
  language?: string | null | undefined;
  platform?: Platform | null | undefined;
  position?: number;
  teamId: string;
  /** A label: unassigned conversations given it come to this team. */
  topic?: string | null | undefined;
};

export type SaveAlertRuleInput = {
  /** above or below; null: the kind's usual */
  condition?: string | null | undefined;
  cooldownSeconds?: number;
  enabled?: boolean;
  /** Set to replace a rule */
  id?: string | null | undefined;
  kind: string;
  name: string;
  /** volume_spike: {"weeks": 4} */
  params?: Record<string, unknown> | null | undefined;
  scope?: string | null | undefined;
  /** A platform name (scope platform) or a Channel/Team/User id */
  scopeValue?: string | null | undefined;
  severity?: string;
  threshold: number;
  windowSeconds?: number;
};

export type SaveFlowInput = {
  definition: FlowDefinitionInput;
  /** Null creates a flow. */
  id?: string | null | undefined;
  name: string;
  /** Kept with the version. */
  note?: string | null | undefined;
  /** 1 to 43200; null keeps the flow's (a day for a new flow). */
  resumeWithinMinutes?: number | null | undefined;
};

export type SaveTemplateInput = {
  /** The universal body: {{nome}}, {{customer.first_name | "cliente"}}, … */
  body: string;
  buttons?: Array<ButtonInput> | null | undefined;
  category?: string | null | undefined;
  /** Null creates a template. */
  id?: string | null | undefined;
  /** When the conversation's is unknown; pt_BR. */
  locale?: string | null | undefined;
  name: string;
  /** Kept with the version. */
  note?: string | null | undefined;
  prompts?: Array<TemplatePromptInput> | null | undefined;
  /** e.g. /entrega */
  shortcut?: string | null | undefined;
  tags?: Array<string> | null | undefined;
  /** Empty: every agent. */
  teamIds?: Array<string> | null | undefined;
  /** For dates; America/Sao_Paulo. */
  timeZone?: string | null | undefined;
  variants?: Array<TemplateVariantInput> | null | undefined;
};

export type SendMessageInput = {
  attachments?: Array<OutboundAttachmentInput> | null | undefined;
  buttons?: Array<ButtonInput> | null | undefined;
  /** Reply through this channel (see Conversation.replyTargets); by default where the customer last wrote. */
  channelId?: string | null | undefined;
  /** Generated by the client once per message and reused on retries: the server stores and sends it once. */
  clientMessageId: string;
  conversationId: string;
  /** One of our response templates instead of text: rendered in the variant for the platform it goes through. */
  responseTemplate?: ResponseTemplateInput | null | undefined;
  /** An approved template: the only thing WhatsApp delivers outside its 24-hour window. */
  template?: TemplateInput | null | undefined;
  /** Empty when a responseTemplate brings the text. */
  text?: string;
};

/** Every setting of a policy: an edit replaces them all. */
export type SlaPolicyInput = {
  businessHours?: Record<string, unknown> | null | undefined;
  firstResponseSeconds?: number | null | undefined;
  holidays?: Array<unknown> | null | undefined;
  name: string;
  nextResponseSeconds?: number | null | undefined;
  platform?: Platform | null | undefined;
  position?: number;
  priority?: Priority | null | undefined;
  resolutionSeconds?: number | null | undefined;
  teamId?: string | null | undefined;
  timezone?: string;
  warnBeforeSeconds?: number;
};

export type StartTemplateExperimentInput = {
  /** 2 to 10; the first is the control. */
  arms: Array<ExperimentArmInput>;
  templateId: string;
};

export type TemplateInput = {
  /** Header/body/button parameters, as the platform takes them. */
  components?: Record<string, unknown> | null | undefined;
  /** Its language code, e.g. "en_US" or "pt_BR". */
  language: string;
  /** An approved template's name (WhatsApp). */
  name: string;
};

export type TemplatePromptInput = {
  label?: string | null | undefined;
  name: string;
};

export type TemplateVariantInput = {
  body?: string | null | undefined;
  /** Only on platforms with buttons; null keeps the universal ones. */
  buttons?: Array<ButtonInput> | null | undefined;
  platform: Platform;
  /** E-mail only. */
  subject?: string | null | undefined;
};

export type UpdateChannelInput = {
  config?: Record<string, unknown> | null | undefined;
  enabled?: boolean | null | undefined;
  id: string;
  name?: string | null | undefined;
  /** Only the keys given are replaced. */
  secrets?: Record<string, unknown> | null | undefined;
};

export type UpdateUserInput = {
  role?: Role | null | undefined;
  /** See every conversation, not only their teams' and their own. */
  seesAllConversations?: boolean | null | undefined;
  /** Replaces the user's teams (what they see follows at once). */
  teamIds?: Array<string> | null | undefined;
};

/** pending: not yet delivered (retrying); succeeded; failed: given up after a day. */
export type WebhookDeliveryStatus =
  | 'FAILED'
  | 'PENDING'
  | 'SUCCEEDED';

export type WebhookEndpointInput = {
  allowPrivateNetwork?: boolean;
  /** Only events of these channels (none: every channel). */
  channelIds?: Array<string>;
  description?: string;
  enabled?: boolean;
  /** Event names (README "Outgoing webhooks"), or ["*"]. */
  events: Array<string>;
  /** Only events of these platforms (none: every platform). */
  platforms?: Array<Platform>;
  url: string;
};

/** A template's review status at Meta; only APPROVED ones can be sent. */
export type WhatsappTemplateStatus =
  | 'APPROVED'
  | 'ARCHIVED'
  | 'DELETED'
  | 'DISABLED'
  | 'IN_APPEAL'
  | 'LIMIT_EXCEEDED'
  | 'PAUSED'
  | 'PENDING'
  | 'PENDING_DELETION'
  | 'REJECTED'
  | 'UNKNOWN';

export type AccountAcceptInvitationMutationVariables = Exact<{
  token: string;
  password: string;
}>;


export type AccountAcceptInvitationMutation = { __typename: 'Mutation', acceptInvitation: { __typename: 'AuthPayload', accessToken: string, refreshToken: string, expiresIn: number, user: { __typename: 'User', id: string, name: string, email: string | null, role: Role | null } } };

export type AccountChangePasswordMutationVariables = Exact<{
  currentPassword: string;
  newPassword: string;
}>;


export type AccountChangePasswordMutation = { __typename: 'Mutation', changeMyPassword: { __typename: 'AuthPayload', accessToken: string, refreshToken: string, expiresIn: number, user: { __typename: 'User', id: string, name: string, email: string | null, role: Role | null } } };

export type AccountMeQueryVariables = Exact<{ [key: string]: never; }>;


export type AccountMeQuery = { __typename: 'Query', me: { __typename: 'User', id: string, name: string, email: string | null, role: Role | null, presence: AgentPresence | null } };

export type AccountRequestResetMutationVariables = Exact<{
  email: string;
}>;


export type AccountRequestResetMutation = { __typename: 'Mutation', requestPasswordReset: boolean };

export type AccountResetPasswordMutationVariables = Exact<{
  token: string;
  password: string;
}>;


export type AccountResetPasswordMutation = { __typename: 'Mutation', resetPassword: boolean };

export type AccountSetPresenceMutationVariables = Exact<{
  presence: AgentPresence;
}>;


export type AccountSetPresenceMutation = { __typename: 'Mutation', setMyPresence: AgentPresence };

export type AccountUpdateProfileMutationVariables = Exact<{
  name: string;
}>;


export type AccountUpdateProfileMutation = { __typename: 'Mutation', updateMyProfile: { __typename: 'User', id: string, name: string } };

export type AcknowledgeAlertMutationVariables = Exact<{
  id: string;
}>;


export type AcknowledgeAlertMutation = { __typename: 'Mutation', acknowledgeAlert: { __typename: 'Alert', id: string, ruleId: string, ruleName: string, kind: string, state: string, severity: string, value: number | null, threshold: number, openedAt: string, lastSeenAt: string, acknowledgedAt: string | null, acknowledgedById: string | null, resolvedAt: string | null } };

export type ActivitiesQueryVariables = Exact<{
  id: string;
}>;


export type ActivitiesQuery = { __typename: 'Query', conversation: { __typename: 'Conversation', id: string, status: ConversationStatus, activities: Array<{ __typename: 'Activity', id: string, type: string, data: Record<string, unknown>, createdAt: string, actor: { __typename: 'User', id: string, name: string } | null }> } };

export type AddNoteMutationVariables = Exact<{
  id: string;
  clientMessageId: string;
  text: string;
}>;


export type AddNoteMutation = { __typename: 'Mutation', addNote: { __typename: 'Message', id: string, conversationId: string, platform: Platform, channelId: string, direction: MessageDirection, kind: MessageKind, text: string | null, status: MessageStatus, errorCode: string | null, errorReason: string | null, clientMessageId: string | null, createdAt: string, editedAt: string | null, deletedAt: string | null, metadata: Record<string, unknown>, sender: { __typename: 'User', id: string, name: string } | null, attachments: Array<{ __typename: 'Attachment', kind: MessageKind, filename: string | null, mimeType: string | null, url: string | null, size: number | null }> } };

export type AdminAddRoutingRuleMutationVariables = Exact<{
  team: string;
  position: number;
  platform?: Platform | null | undefined;
  channel?: string | null | undefined;
  language?: string | null | undefined;
  topic?: string | null | undefined;
}>;


export type AdminAddRoutingRuleMutation = { __typename: 'Mutation', addRoutingRule: string };

export type AdminAlertRulesQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminAlertRulesQuery = { __typename: 'Query', alertRules: Array<{ __typename: 'AlertRule', id: string, name: string, kind: string, scope: string | null, scopeValue: string | null, condition: string, threshold: number, windowSeconds: number, severity: string, cooldownSeconds: number, params: Record<string, unknown>, enabled: boolean }>, channels: Array<{ __typename: 'Channel', id: string, name: string, platform: Platform }>, teams: Array<{ __typename: 'Team', id: string, name: string }>, users: Array<{ __typename: 'User', id: string, name: string }> };

export type AdminApiKeysQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminApiKeysQuery = { __typename: 'Query', apiKeys: Array<{ __typename: 'ApiKey', id: string, name: string, prefix: string, scopes: Array<ApiKeyScope>, createdById: string, createdAt: string, revokedAt: string | null, lastUsedAt: string | null, lastUsedIp: string | null }>, users: Array<{ __typename: 'User', id: string, name: string }> };

export type AdminAuditActorsQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminAuditActorsQuery = { __typename: 'Query', users: Array<{ __typename: 'User', id: string, name: string }>, apiKeys: Array<{ __typename: 'ApiKey', id: string, name: string, prefix: string }> };

export type AdminAuditLogQueryVariables = Exact<{
  filter?: AuditLogFilter | null | undefined;
  after?: string | null | undefined;
}>;


export type AdminAuditLogQuery = { __typename: 'Query', auditLog: { __typename: 'AuditEntryConnection', edges: Array<{ __typename: 'AuditEntryEdge', cursor: string, node: { __typename: 'AuditEntry', id: string, action: string, targetType: string, targetId: string | null, details: Record<string, unknown>, ip: string | null, createdAt: string, actorId: string | null, apiKeyId: string | null, actor: { __typename: 'User', id: string, name: string } | null } }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type AdminChannelsQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminChannelsQuery = { __typename: 'Query', channels: Array<{ __typename: 'Channel', id: string, platform: Platform, name: string, enabled: boolean, webhookUrl: string, config: Record<string, unknown>, secretsSet: Array<string>, lastWebhookAt: string | null, lastError: string | null, lastErrorAt: string | null, health: ChannelHealth, previousSecretAcceptedUntil: string | null, registersWebhook: boolean, createdAt: string }>, retentionPolicies: Array<{ __typename: 'RetentionPolicy', channelId: string, messageBodyDays: number | null }> };

export type AdminConfigureModuleMutationVariables = Exact<{
  name: string;
  config: Record<string, unknown>;
}>;


export type AdminConfigureModuleMutation = { __typename: 'Mutation', configureModule: { __typename: 'PytakeModule', name: string, title: string, description: string, version: string | null, enabled: boolean, status: ModuleStatus, failedReason: string | null, configSchema: Record<string, unknown> | null, config: Record<string, unknown>, nodeTypes: Array<string> } };

export type AdminCreateApiKeyMutationVariables = Exact<{
  name: string;
  scopes: Array<ApiKeyScope> | ApiKeyScope;
}>;


export type AdminCreateApiKeyMutation = { __typename: 'Mutation', createApiKey: { __typename: 'CreatedApiKey', token: string, key: { __typename: 'ApiKey', id: string, name: string, prefix: string, scopes: Array<ApiKeyScope>, createdById: string, createdAt: string, revokedAt: string | null, lastUsedAt: string | null, lastUsedIp: string | null } } };

export type AdminCreateChannelMutationVariables = Exact<{
  input: CreateChannelInput;
}>;


export type AdminCreateChannelMutation = { __typename: 'Mutation', createChannel: { __typename: 'Channel', id: string, platform: Platform, name: string, enabled: boolean, webhookUrl: string, config: Record<string, unknown>, secretsSet: Array<string>, lastWebhookAt: string | null, lastError: string | null, lastErrorAt: string | null, health: ChannelHealth, previousSecretAcceptedUntil: string | null, registersWebhook: boolean, createdAt: string } };

export type AdminCreateSlaPolicyMutationVariables = Exact<{
  input: CreateSlaPolicyInput;
}>;


export type AdminCreateSlaPolicyMutation = { __typename: 'Mutation', createSlaPolicy: { __typename: 'SlaPolicy', id: string, name: string, position: number, teamId: string | null, priority: Priority | null, platform: Platform | null, firstResponseSeconds: number | null, nextResponseSeconds: number | null, resolutionSeconds: number | null, warnBeforeSeconds: number, timezone: string, businessHours: Record<string, unknown>, holidays: Array<unknown> } };

export type AdminCsatSettingsQueryVariables = Exact<{
  channel: string;
}>;


export type AdminCsatSettingsQuery = { __typename: 'Query', csatSettings: { __typename: 'CsatSettings', channelId: string, enabled: boolean, delaySeconds: number, question: string, windowSeconds: number, commentSeconds: number } };

export type AdminDeleteAlertRuleMutationVariables = Exact<{
  id: string;
}>;


export type AdminDeleteAlertRuleMutation = { __typename: 'Mutation', deleteAlertRule: boolean };

export type AdminDeleteRoutingRuleMutationVariables = Exact<{
  id: string;
}>;


export type AdminDeleteRoutingRuleMutation = { __typename: 'Mutation', deleteRoutingRule: boolean };

export type AdminDeleteSlaPolicyMutationVariables = Exact<{
  id: string;
}>;


export type AdminDeleteSlaPolicyMutation = { __typename: 'Mutation', deleteSlaPolicy: boolean };

export type AdminDeleteWebhookEndpointMutationVariables = Exact<{
  id: string;
}>;


export type AdminDeleteWebhookEndpointMutation = { __typename: 'Mutation', deleteWebhookEndpoint: boolean };

export type AdminDisableModuleMutationVariables = Exact<{
  name: string;
}>;


export type AdminDisableModuleMutation = { __typename: 'Mutation', disableModule: { __typename: 'PytakeModule', name: string, title: string, description: string, version: string | null, enabled: boolean, status: ModuleStatus, failedReason: string | null, configSchema: Record<string, unknown> | null, config: Record<string, unknown>, nodeTypes: Array<string> } };

export type AdminEnableModuleMutationVariables = Exact<{
  name: string;
}>;


export type AdminEnableModuleMutation = { __typename: 'Mutation', enableModule: { __typename: 'PytakeModule', name: string, title: string, description: string, version: string | null, enabled: boolean, status: ModuleStatus, failedReason: string | null, configSchema: Record<string, unknown> | null, config: Record<string, unknown>, nodeTypes: Array<string> } };

export type AdminEndSecretGraceMutationVariables = Exact<{
  id: string;
}>;


export type AdminEndSecretGraceMutation = { __typename: 'Mutation', endWebhookSecretGrace: { __typename: 'Channel', id: string, platform: Platform, name: string, enabled: boolean, webhookUrl: string, config: Record<string, unknown>, secretsSet: Array<string>, lastWebhookAt: string | null, lastError: string | null, lastErrorAt: string | null, health: ChannelHealth, previousSecretAcceptedUntil: string | null, registersWebhook: boolean, createdAt: string } };

export type AdminModulesQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminModulesQuery = { __typename: 'Query', modules: Array<{ __typename: 'PytakeModule', name: string, title: string, description: string, version: string | null, enabled: boolean, status: ModuleStatus, failedReason: string | null, configSchema: Record<string, unknown> | null, config: Record<string, unknown>, nodeTypes: Array<string> }> };

export type AdminRegisterWebhookMutationVariables = Exact<{
  id: string;
}>;


export type AdminRegisterWebhookMutation = { __typename: 'Mutation', registerChannelWebhook: { __typename: 'Channel', id: string, platform: Platform, name: string, enabled: boolean, webhookUrl: string, config: Record<string, unknown>, secretsSet: Array<string>, lastWebhookAt: string | null, lastError: string | null, lastErrorAt: string | null, health: ChannelHealth, previousSecretAcceptedUntil: string | null, registersWebhook: boolean, createdAt: string } };

export type AdminReorderRoutingRulesMutationVariables = Exact<{
  ids: Array<string> | string;
}>;


export type AdminReorderRoutingRulesMutation = { __typename: 'Mutation', reorderRoutingRules: Array<{ __typename: 'RoutingRule', id: string, teamId: string, position: number, platform: Platform | null, channelId: string | null, language: string | null, topic: string | null, createdAt: string }> };

export type AdminReplayWebhookDeliveriesMutationVariables = Exact<{
  deliveryId?: string | null | undefined;
  endpointId?: string | null | undefined;
  since?: string | null | undefined;
  until?: string | null | undefined;
}>;


export type AdminReplayWebhookDeliveriesMutation = { __typename: 'Mutation', replayWebhookDeliveries: number };

export type AdminReportingSettingsQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminReportingSettingsQuery = { __typename: 'Query', channels: Array<{ __typename: 'Channel', id: string, name: string, platform: Platform }>, platformPrices: Array<{ __typename: 'PlatformPrice', platform: Platform, kind: string, unit: string, price: string, currency: string }>, conversionLabels: Array<{ __typename: 'ConversionLabel', label: string, value: string, currency: string }> };

export type AdminRevokeApiKeyMutationVariables = Exact<{
  id: string;
}>;


export type AdminRevokeApiKeyMutation = { __typename: 'Mutation', revokeApiKey: { __typename: 'ApiKey', id: string, name: string, prefix: string, scopes: Array<ApiKeyScope>, createdById: string, createdAt: string, revokedAt: string | null, lastUsedAt: string | null, lastUsedIp: string | null } };

export type AdminRotateWebhookEndpointSecretMutationVariables = Exact<{
  id: string;
  previousValidSeconds: number;
}>;


export type AdminRotateWebhookEndpointSecretMutation = { __typename: 'Mutation', rotateWebhookEndpointSecret: { __typename: 'WebhookEndpointWithSecret', secret: string | null, endpoint: { __typename: 'WebhookEndpoint', id: string, url: string, description: string, events: Array<string>, channelIds: Array<string>, platforms: Array<Platform>, enabled: boolean, allowPrivateNetwork: boolean, disabledReason: string | null, disabledAt: string | null, failingSince: string | null, previousSecretValidUntil: string | null, createdAt: string } } };

export type AdminRotateWebhookSecretMutationVariables = Exact<{
  id: string;
}>;


export type AdminRotateWebhookSecretMutation = { __typename: 'Mutation', rotateWebhookSecret: { __typename: 'RotatedSecrets', secrets: Record<string, unknown>, channel: { __typename: 'Channel', id: string, platform: Platform, name: string, enabled: boolean, webhookUrl: string, config: Record<string, unknown>, secretsSet: Array<string>, lastWebhookAt: string | null, lastError: string | null, lastErrorAt: string | null, health: ChannelHealth, previousSecretAcceptedUntil: string | null, registersWebhook: boolean, createdAt: string } } };

export type AdminRoutingCreateTeamMutationVariables = Exact<{
  name: string;
}>;


export type AdminRoutingCreateTeamMutation = { __typename: 'Mutation', saveTeam: { __typename: 'Team', id: string, name: string } };

export type AdminRoutingRulesQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminRoutingRulesQuery = { __typename: 'Query', routingRules: Array<{ __typename: 'RoutingRule', id: string, teamId: string, position: number, platform: Platform | null, channelId: string | null, language: string | null, topic: string | null, createdAt: string }>, teams: Array<{ __typename: 'Team', id: string, name: string }>, channels: Array<{ __typename: 'Channel', id: string, name: string, platform: Platform }> };

export type AdminSaveAlertRuleMutationVariables = Exact<{
  input: SaveAlertRuleInput;
}>;


export type AdminSaveAlertRuleMutation = { __typename: 'Mutation', saveAlertRule: { __typename: 'AlertRule', id: string, name: string, kind: string, scope: string | null, scopeValue: string | null, condition: string, threshold: number, windowSeconds: number, severity: string, cooldownSeconds: number, params: Record<string, unknown>, enabled: boolean } };

export type AdminSaveConversionLabelsMutationVariables = Exact<{
  labels: Array<ConversionLabelInput> | ConversionLabelInput;
}>;


export type AdminSaveConversionLabelsMutation = { __typename: 'Mutation', saveConversionLabels: Array<{ __typename: 'ConversionLabel', label: string, value: string, currency: string }> };

export type AdminSaveCsatSettingsMutationVariables = Exact<{
  channel: string;
  enabled: boolean;
  delay: number;
  question?: string | null | undefined;
  window: number;
  comment: number;
}>;


export type AdminSaveCsatSettingsMutation = { __typename: 'Mutation', saveCsatSettings: { __typename: 'CsatSettings', channelId: string, enabled: boolean, delaySeconds: number, question: string, windowSeconds: number, commentSeconds: number } };

export type AdminSavePlatformPricesMutationVariables = Exact<{
  prices: Array<PlatformPriceInput> | PlatformPriceInput;
}>;


export type AdminSavePlatformPricesMutation = { __typename: 'Mutation', savePlatformPrices: Array<{ __typename: 'PlatformPrice', platform: Platform, kind: string, unit: string, price: string, currency: string }> };

export type AdminSaveWebhookEndpointMutationVariables = Exact<{
  input: WebhookEndpointInput;
  id?: string | null | undefined;
}>;


export type AdminSaveWebhookEndpointMutation = { __typename: 'Mutation', saveWebhookEndpoint: { __typename: 'WebhookEndpointWithSecret', secret: string | null, endpoint: { __typename: 'WebhookEndpoint', id: string, url: string, description: string, events: Array<string>, channelIds: Array<string>, platforms: Array<Platform>, enabled: boolean, allowPrivateNetwork: boolean, disabledReason: string | null, disabledAt: string | null, failingSince: string | null, previousSecretValidUntil: string | null, createdAt: string } } };

export type AdminSetChannelRetentionMutationVariables = Exact<{
  id: string;
  days?: number | null | undefined;
}>;


export type AdminSetChannelRetentionMutation = { __typename: 'Mutation', setChannelRetention: { __typename: 'RetentionPolicy', channelId: string, messageBodyDays: number | null } };

export type AdminSlaPoliciesQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminSlaPoliciesQuery = { __typename: 'Query', slaPolicies: Array<{ __typename: 'SlaPolicy', id: string, name: string, position: number, teamId: string | null, priority: Priority | null, platform: Platform | null, firstResponseSeconds: number | null, nextResponseSeconds: number | null, resolutionSeconds: number | null, warnBeforeSeconds: number, timezone: string, businessHours: Record<string, unknown>, holidays: Array<unknown> }>, teams: Array<{ __typename: 'Team', id: string, name: string }> };

export type AdminUpdateChannelMutationVariables = Exact<{
  input: UpdateChannelInput;
}>;


export type AdminUpdateChannelMutation = { __typename: 'Mutation', updateChannel: { __typename: 'Channel', id: string, platform: Platform, name: string, enabled: boolean, webhookUrl: string, config: Record<string, unknown>, secretsSet: Array<string>, lastWebhookAt: string | null, lastError: string | null, lastErrorAt: string | null, health: ChannelHealth, previousSecretAcceptedUntil: string | null, registersWebhook: boolean, createdAt: string } };

export type AdminUpdateRoutingRuleMutationVariables = Exact<{
  id: string;
  input: RoutingRuleInput;
}>;


export type AdminUpdateRoutingRuleMutation = { __typename: 'Mutation', updateRoutingRule: { __typename: 'RoutingRule', id: string, teamId: string, position: number, platform: Platform | null, channelId: string | null, language: string | null, topic: string | null, createdAt: string } };

export type AdminUpdateSlaPolicyMutationVariables = Exact<{
  id: string;
  input: SlaPolicyInput;
}>;


export type AdminUpdateSlaPolicyMutation = { __typename: 'Mutation', updateSlaPolicy: { __typename: 'SlaPolicy', id: string, name: string, position: number, teamId: string | null, priority: Priority | null, platform: Platform | null, firstResponseSeconds: number | null, nextResponseSeconds: number | null, resolutionSeconds: number | null, warnBeforeSeconds: number, timezone: string, businessHours: Record<string, unknown>, holidays: Array<unknown> } };

export type AdminWebhookDeliveriesQueryVariables = Exact<{
  endpointId: string;
  status?: WebhookDeliveryStatus | null | undefined;
  before?: string | null | undefined;
}>;


export type AdminWebhookDeliveriesQuery = { __typename: 'Query', webhookDeliveries: Array<{ __typename: 'WebhookDelivery', id: string, cursor: string, endpointId: string, eventId: string | null, eventType: string, conversationId: string | null, body: string, status: WebhookDeliveryStatus, attempts: number, nextAttemptAt: string | null, lastStatusCode: number | null, lastError: string | null, replayOf: string | null, createdAt: string, deliveredAt: string | null, attemptLog: Array<{ __typename: 'WebhookAttempt', startedAt: string, durationMs: number, statusCode: number | null, error: string | null, succeeded: boolean }> }> };

export type AdminWebhookEndpointsQueryVariables = Exact<{ [key: string]: never; }>;


export type AdminWebhookEndpointsQuery = { __typename: 'Query', webhookEndpoints: Array<{ __typename: 'WebhookEndpoint', id: string, url: string, description: string, events: Array<string>, channelIds: Array<string>, platforms: Array<Platform>, enabled: boolean, allowPrivateNetwork: boolean, disabledReason: string | null, disabledAt: string | null, failingSince: string | null, previousSecretValidUntil: string | null, createdAt: string }>, channels: Array<{ __typename: 'Channel', id: string, name: string, platform: Platform }> };

export type AssignMutationVariables = Exact<{
  id: string;
  user?: string | null | undefined;
}>;


export type AssignMutation = { __typename: 'Mutation', assignConversation: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } };

export type BulkUpdateMutationVariables = Exact<{
  input: BulkUpdateInput;
}>;


export type BulkUpdateMutation = { __typename: 'Mutation', bulkUpdateConversations: { __typename: 'BulkUpdateResult', updated: Array<{ __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> }>, errors: Array<{ __typename: 'BulkError', conversationId: string, code: string, message: string }> } };

export type CancelFlowExecutionMutationVariables = Exact<{
  id: string;
}>;


export type CancelFlowExecutionMutation = { __typename: 'Mutation', cancelFlowExecution: { __typename: 'FlowExecution', id: string, flowId: string, flowVersion: number, conversationId: string, status: string, currentNode: string | null, waitingFor: string | null, variables: Record<string, unknown>, trigger: string, reason: string | null, handedOffAt: string | null, startedAt: string, updatedAt: string, finishedAt: string | null } };

export type ChangeLabelsMutationVariables = Exact<{
  id: string;
  add?: Array<string> | string | null | undefined;
  remove?: Array<string> | string | null | undefined;
}>;


export type ChangeLabelsMutation = { __typename: 'Mutation', changeConversationLabels: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } };

export type ConversationQueryVariables = Exact<{
  id: string;
}>;


export type ConversationQuery = { __typename: 'Query', conversation: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, queuePosition: number | null, language: string | null, escalationLevel: number, createdAt: string, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null, email: string | null, identities: Array<{ __typename: 'Identity', id: string, platform: Platform, channelId: string, externalId: string, displayName: string | null, phone: string | null, email: string | null, lastInboundAt: string | null }>, attributes: Array<{ __typename: 'CustomerAttribute', name: string, value: string, updatedAt: string }> }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } };

export type ConversationEventsSubscriptionVariables = Exact<{
  id: string;
  after?: string | null | undefined;
}>;


export type ConversationEventsSubscription = { __typename: 'Subscription', conversationEvents: { __typename: 'ConversationEvent', cursor: string, type: ConversationEventType, message: { __typename: 'Message', id: string, conversationId: string, platform: Platform, channelId: string, direction: MessageDirection, kind: MessageKind, text: string | null, status: MessageStatus, errorCode: string | null, errorReason: string | null, clientMessageId: string | null, createdAt: string, editedAt: string | null, deletedAt: string | null, metadata: Record<string, unknown>, sender: { __typename: 'User', id: string, name: string } | null, attachments: Array<{ __typename: 'Attachment', kind: MessageKind, filename: string | null, mimeType: string | null, url: string | null, size: number | null }> } | null, activity: { __typename: 'Activity', id: string, type: string, data: Record<string, unknown>, createdAt: string, actor: { __typename: 'User', id: string, name: string } | null } | null, customer: { __typename: 'Customer', id: string } | null } };

export type CustomerConversationsQueryVariables = Exact<{
  filter?: ConversationFilter | null | undefined;
}>;


export type CustomerConversationsQuery = { __typename: 'Query', conversations: { __typename: 'ConversationConnection', edges: Array<{ __typename: 'ConversationEdge', node: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type CustomerExportQueryVariables = Exact<{
  id: string;
}>;


export type CustomerExportQuery = { __typename: 'Query', customerExport: { __typename: 'CustomerExport', id: string, customerId: string, status: CustomerExportStatus, error: string | null, createdAt: string, finishedAt: string | null, downloadUrl: string | null, downloadExpiresAt: string | null } };

export type DashboardAlertsQueryVariables = Exact<{
  states?: Array<string> | string | null | undefined;
}>;


export type DashboardAlertsQuery = { __typename: 'Query', alerts: Array<{ __typename: 'Alert', id: string, ruleId: string, ruleName: string, kind: string, state: string, severity: string, value: number | null, threshold: number, openedAt: string, lastSeenAt: string, acknowledgedAt: string | null, acknowledgedById: string | null, resolvedAt: string | null }> };

export type DashboardAlertEventsSubscriptionVariables = Exact<{
  after?: string | null | undefined;
}>;


export type DashboardAlertEventsSubscription = { __typename: 'Subscription', alertEvents: { __typename: 'AlertEvent', cursor: string, type: string, alert: { __typename: 'Alert', id: string, ruleId: string, ruleName: string, kind: string, state: string, severity: string, value: number | null, threshold: number, openedAt: string, lastSeenAt: string, acknowledgedAt: string | null, acknowledgedById: string | null, resolvedAt: string | null } } };

export type DashboardDirectoryQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardDirectoryQuery = { __typename: 'Query', teams: Array<{ __typename: 'Team', id: string, name: string }>, users: Array<{ __typename: 'User', id: string, name: string, isActive: boolean, role: Role | null }>, channels: Array<{ __typename: 'Channel', id: string, name: string }> };

export type DashboardGroupedQueryVariables = Exact<{
  names: Array<string> | string;
  range: MetricRange;
  filter?: MetricFilter | null | undefined;
  groupBy: Array<MetricDimension> | MetricDimension;
  timeZone: string;
}>;


export type DashboardGroupedQuery = { __typename: 'Query', metrics: Array<{ __typename: 'MetricRow', metric: string, bucket: string | null, hourOfDay: number | null, count: number, avg: number | null, median: number | null, p90: number | null, p95: number | null, value: number | null, numerator: number | null, group: { __typename: 'MetricGroup', platform: string | null, teamId: string | null, agentId: string | null, channelId: string | null, label: string | null } }> };

export type DashboardMetricsQueryVariables = Exact<{
  names: Array<string> | string;
  range: MetricRange;
  filter?: MetricFilter | null | undefined;
  timeZone: string;
}>;


export type DashboardMetricsQuery = { __typename: 'Query', metrics: Array<{ __typename: 'MetricRow', metric: string, bucket: string | null, hourOfDay: number | null, count: number, avg: number | null, median: number | null, p90: number | null, p95: number | null, value: number | null, numerator: number | null, group: { __typename: 'MetricGroup', platform: string | null, teamId: string | null, agentId: string | null, channelId: string | null, label: string | null } }> };

export type DashboardSeriesQueryVariables = Exact<{
  names: Array<string> | string;
  range: MetricRange;
  filter?: MetricFilter | null | undefined;
  bucket: MetricBucket;
  timeZone: string;
}>;


export type DashboardSeriesQuery = { __typename: 'Query', metrics: Array<{ __typename: 'MetricRow', metric: string, bucket: string | null, hourOfDay: number | null, count: number, avg: number | null, median: number | null, p90: number | null, p95: number | null, value: number | null, numerator: number | null, group: { __typename: 'MetricGroup', platform: string | null, teamId: string | null, agentId: string | null, channelId: string | null, label: string | null } }> };

export type DashboardUpdatesSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type DashboardUpdatesSubscription = { __typename: 'Subscription', dashboardUpdates: { __typename: 'DashboardUpdate', at: string, slaBreaches: number, alertsOpen: number | null, teams: Array<{ __typename: 'TeamLoad', teamId: string | null, teamName: string | null, open: number, queued: number, assigned: number }>, kpis: { __typename: 'DashboardKpis', since: string, resolutions: number, resolutionRate: number | null, messagesIn: number, messagesOut: number, conversationsStarted: number, csatResponses: number, csatAverage: number | null, csatSatisfiedShare: number | null, firstResponseTime: { __typename: 'DurationKpi', count: number, avg: number | null, median: number | null, p90: number | null, p95: number | null }, resolutionTime: { __typename: 'DurationKpi', count: number, avg: number | null, median: number | null, p90: number | null, p95: number | null } } } };

export type DeleteViewMutationVariables = Exact<{
  id: string;
}>;


export type DeleteViewMutation = { __typename: 'Mutation', deleteView: boolean };

export type DemoQueryVariables = Exact<{ [key: string]: never; }>;


export type DemoQuery = { __typename: 'Query', demo: { __typename: 'Demo', enabled: boolean, channels: Array<{ __typename: 'DemoChannel', channelId: string, name: string, phoneNumberId: string }> } };

export type EraseCustomerMutationVariables = Exact<{
  customerId: string;
  reason: string;
}>;


export type EraseCustomerMutation = { __typename: 'Mutation', eraseCustomer: { __typename: 'CustomerErasure', customerId: string, conversations: number, identities: number, messages: number, events: number } };

export type EscalateMutationVariables = Exact<{
  id: string;
  reason: string;
  toUserId?: string | null | undefined;
}>;


export type EscalateMutation = { __typename: 'Mutation', escalateConversation: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } };

export type FilterChannelsQueryVariables = Exact<{ [key: string]: never; }>;


export type FilterChannelsQuery = { __typename: 'Query', channels: Array<{ __typename: 'Channel', id: string, name: string, platform: Platform }> };

export type FilterTeamsQueryVariables = Exact<{ [key: string]: never; }>;


export type FilterTeamsQuery = { __typename: 'Query', teams: Array<{ __typename: 'Team', id: string, name: string, memberIds: Array<string> }> };

export type FilterUsersQueryVariables = Exact<{ [key: string]: never; }>;


export type FilterUsersQuery = { __typename: 'Query', users: Array<{ __typename: 'User', id: string, name: string, isActive: boolean }> };

export type FindCustomersQueryVariables = Exact<{
  query: string;
}>;


export type FindCustomersQuery = { __typename: 'Query', search: { __typename: 'SearchConnection', edges: Array<{ __typename: 'SearchHit', cursor: string, rank: number, node: { __typename: 'Conversation', id: string, platform: Platform, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null, email: string | null, identities: Array<{ __typename: 'Identity', id: string, platform: Platform, channelId: string, externalId: string, displayName: string | null, phone: string | null, email: string | null, lastInboundAt: string | null }> } } }> } };

export type FlowQueryVariables = Exact<{
  id: string;
}>;


export type FlowQuery = { __typename: 'Query', flow: { __typename: 'Flow', id: string, name: string, version: number, publishedVersion: number | null, publishedAt: string | null, resumeWithinMinutes: number, createdAt: string, updatedAt: string, definition: { __typename: 'FlowVersion', version: number, note: string | null, createdAt: string, nodes: Array<{ __typename: 'FlowNode', type: string, config: Record<string, unknown>, nodeId: string, position: { __typename: 'FlowPosition', x: number, y: number } }>, edges: Array<{ __typename: 'FlowEdge', from: string, to: string, port: string, condition: Record<string, unknown> | null }> }, versions: Array<{ __typename: 'FlowVersion', version: number, note: string | null, createdAt: string, createdById: string | null }> } };

export type FlowsQueryVariables = Exact<{ [key: string]: never; }>;


export type FlowsQuery = { __typename: 'Query', flows: Array<{ __typename: 'Flow', id: string, name: string, version: number, publishedVersion: number | null, publishedAt: string | null, resumeWithinMinutes: number, createdAt: string, updatedAt: string }> };

export type FlowDirectoryQueryVariables = Exact<{ [key: string]: never; }>;


export type FlowDirectoryQuery = { __typename: 'Query', teams: Array<{ __typename: 'Team', id: string, name: string }>, users: Array<{ __typename: 'User', id: string, name: string, email: string | null, isActive: boolean }> };

export type FlowExecutionsQueryVariables = Exact<{
  flowId: string;
}>;


export type FlowExecutionsQuery = { __typename: 'Query', flowExecutions: Array<{ __typename: 'FlowExecution', id: string, flowId: string, flowVersion: number, conversationId: string, status: string, currentNode: string | null, waitingFor: string | null, variables: Record<string, unknown>, trigger: string, reason: string | null, handedOffAt: string | null, startedAt: string, updatedAt: string, finishedAt: string | null }> };

export type FlowNodeTypesQueryVariables = Exact<{ [key: string]: never; }>;


export type FlowNodeTypesQuery = { __typename: 'Query', flowNodeTypes: Array<{ __typename: 'FlowNodeType', name: string, module: string, moduleTitle: string, description: string, configSchema: Record<string, unknown>, ports: Array<string> }> };

export type FlowRunCountQueryVariables = Exact<{
  flowId: string;
}>;


export type FlowRunCountQuery = { __typename: 'Query', flowExecutions: Array<{ __typename: 'FlowExecution', id: string, status: string }> };

export type FlowTemplatesQueryVariables = Exact<{
  query?: string | null | undefined;
}>;


export type FlowTemplatesQuery = { __typename: 'Query', templates: { __typename: 'ResponseTemplateConnection', edges: Array<{ __typename: 'ResponseTemplateEdge', node: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null } }> } };

export type FlowTemplateNameQueryVariables = Exact<{
  id: string;
}>;


export type FlowTemplateNameQuery = { __typename: 'Query', template: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null } };

export type FlowVersionQueryVariables = Exact<{
  id: string;
  version: number;
}>;


export type FlowVersionQuery = { __typename: 'Query', flow: { __typename: 'Flow', id: string, definition: { __typename: 'FlowVersion', version: number, note: string | null, createdAt: string, nodes: Array<{ __typename: 'FlowNode', type: string, config: Record<string, unknown>, nodeId: string, position: { __typename: 'FlowPosition', x: number, y: number } }>, edges: Array<{ __typename: 'FlowEdge', from: string, to: string, port: string, condition: Record<string, unknown> | null }> } } };

export type InboxQueryVariables = Exact<{
  filter?: ConversationFilter | null | undefined;
  after?: string | null | undefined;
}>;


export type InboxQuery = { __typename: 'Query', conversations: { __typename: 'ConversationConnection', edges: Array<{ __typename: 'ConversationEdge', node: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type InboxEventsSubscriptionVariables = Exact<{
  after?: string | null | undefined;
}>;


export type InboxEventsSubscription = { __typename: 'Subscription', inboxEvents: { __typename: 'InboxEvent', cursor: string, type: InboxEventType, conversation: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } } };

export type LoginMutationVariables = Exact<{
  email: string;
  password: string;
}>;


export type LoginMutation = { __typename: 'Mutation', login: { __typename: 'AuthPayload', accessToken: string, refreshToken: string, expiresIn: number, user: { __typename: 'User', id: string, name: string, email: string | null, role: Role | null } } };

export type LogoutMutationVariables = Exact<{
  token: string;
}>;


export type LogoutMutation = { __typename: 'Mutation', logout: boolean };

export type MarkNotificationsReadMutationVariables = Exact<{
  ids?: Array<string> | string | null | undefined;
}>;


export type MarkNotificationsReadMutation = { __typename: 'Mutation', markNotificationsRead: number };

export type MarkReadMutationVariables = Exact<{
  id: string;
}>;


export type MarkReadMutation = { __typename: 'Mutation', markConversationRead: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { __typename: 'Query', me: { __typename: 'User', id: string, name: string, email: string | null, role: Role | null } };

export type MergeCustomersMutationVariables = Exact<{
  sourceId: string;
  targetId: string;
}>;


export type MergeCustomersMutation = { __typename: 'Mutation', mergeCustomers: { __typename: 'Customer', id: string, name: string | null, phone: string | null, email: string | null, identities: Array<{ __typename: 'Identity', id: string, platform: Platform, channelId: string, externalId: string, displayName: string | null, phone: string | null, email: string | null, lastInboundAt: string | null }> } };

export type MessagesQueryVariables = Exact<{
  id: string;
  before?: string | null | undefined;
}>;


export type MessagesQuery = { __typename: 'Query', conversation: { __typename: 'Conversation', id: string, messages: { __typename: 'MessageConnection', edges: Array<{ __typename: 'MessageEdge', cursor: string, node: { __typename: 'Message', id: string, conversationId: string, platform: Platform, channelId: string, direction: MessageDirection, kind: MessageKind, text: string | null, status: MessageStatus, errorCode: string | null, errorReason: string | null, clientMessageId: string | null, createdAt: string, editedAt: string | null, deletedAt: string | null, metadata: Record<string, unknown>, sender: { __typename: 'User', id: string, name: string } | null, attachments: Array<{ __typename: 'Attachment', kind: MessageKind, filename: string | null, mimeType: string | null, url: string | null, size: number | null }> } }>, pageInfo: { __typename: 'PageInfo', hasPreviousPage: boolean } } } };

export type NotificationsQueryVariables = Exact<{ [key: string]: never; }>;


export type NotificationsQuery = { __typename: 'Query', notifications: Array<{ __typename: 'Notification', id: string, kind: string, title: string, body: string, data: Record<string, unknown>, createdAt: string, readAt: string | null }> };

export type NotificationEventsSubscriptionVariables = Exact<{
  after?: string | null | undefined;
}>;


export type NotificationEventsSubscription = { __typename: 'Subscription', notificationEvents: { __typename: 'NotificationEvent', cursor: string, notification: { __typename: 'Notification', id: string, kind: string, title: string, body: string, data: Record<string, unknown>, createdAt: string, readAt: string | null } } };

export type NotificationPreferencesQueryVariables = Exact<{ [key: string]: never; }>;


export type NotificationPreferencesQuery = { __typename: 'Query', notificationPreferences: { __typename: 'NotificationPreferences', mutedKinds: Array<string>, channels: Array<string>, slackWebhookUrl: string | null, timezone: string, quietStart: string | null, quietEnd: string | null } };

export type PeopleDeactivateMutationVariables = Exact<{
  userId: string;
}>;


export type PeopleDeactivateMutation = { __typename: 'Mutation', deactivateUser: { __typename: 'User', id: string, isActive: boolean } };

export type PeopleDeleteTeamMutationVariables = Exact<{
  id: string;
}>;


export type PeopleDeleteTeamMutation = { __typename: 'Mutation', deleteTeam: string };

export type PeopleInviteMutationVariables = Exact<{
  input: InviteUserInput;
}>;


export type PeopleInviteMutation = { __typename: 'Mutation', inviteUser: { __typename: 'User', id: string, name: string, email: string | null, role: Role | null, isActive: boolean, teamIds: Array<string> | null, invitedUntil: string | null } };

export type PeopleKnownSkillsQueryVariables = Exact<{ [key: string]: never; }>;


export type PeopleKnownSkillsQuery = { __typename: 'Query', knownSkills: Array<string> };

export type PeopleReactivateMutationVariables = Exact<{
  userId: string;
}>;


export type PeopleReactivateMutation = { __typename: 'Mutation', reactivateUser: { __typename: 'User', id: string, isActive: boolean } };

export type PeopleSaveTeamMutationVariables = Exact<{
  teamId?: string | null | undefined;
  name: string;
  memberIds: Array<string> | string;
  strategy: AssignmentStrategy;
  sticky: boolean;
  offlineGraceSeconds: number;
}>;


export type PeopleSaveTeamMutation = { __typename: 'Mutation', saveTeam: { __typename: 'Team', id: string, name: string, strategy: AssignmentStrategy, sticky: boolean, offlineGraceSeconds: number, memberIds: Array<string> } };

export type PeopleTeamsQueryVariables = Exact<{ [key: string]: never; }>;


export type PeopleTeamsQuery = { __typename: 'Query', teams: Array<{ __typename: 'Team', id: string, name: string, strategy: AssignmentStrategy, sticky: boolean, offlineGraceSeconds: number, memberIds: Array<string> }>, users: Array<{ __typename: 'User', id: string, name: string, email: string | null, role: Role | null, isActive: boolean, presence: AgentPresence | null }> };

export type PeopleUpdateAgentMutationVariables = Exact<{
  userId: string;
  capacity?: number | null | undefined;
  platformCapacity?: Record<string, unknown> | null | undefined;
  skills?: Array<string> | string | null | undefined;
}>;


export type PeopleUpdateAgentMutation = { __typename: 'Mutation', updateAgent: { __typename: 'User', id: string, capacity: number | null, platformCapacity: Record<string, unknown> | null, skills: Array<string> | null } };

export type PeopleUpdateUserMutationVariables = Exact<{
  userId: string;
  input: UpdateUserInput;
}>;


export type PeopleUpdateUserMutation = { __typename: 'Mutation', updateUser: { __typename: 'User', id: string, role: Role | null, seesAllConversations: boolean | null, teamIds: Array<string> | null } };

export type PeopleUsersQueryVariables = Exact<{ [key: string]: never; }>;


export type PeopleUsersQuery = { __typename: 'Query', users: Array<{ __typename: 'User', id: string, name: string, email: string | null, role: Role | null, isActive: boolean, presence: AgentPresence | null, capacity: number | null, platformCapacity: Record<string, unknown> | null, skills: Array<string> | null, seesAllConversations: boolean | null, teamIds: Array<string> | null, lastSeenAt: string | null, invitedUntil: string | null }>, teams: Array<{ __typename: 'Team', id: string, name: string, strategy: AssignmentStrategy, sticky: boolean, offlineGraceSeconds: number, memberIds: Array<string> }> };

export type PresenceSubscriptionVariables = Exact<{
  id: string;
}>;


export type PresenceSubscription = { __typename: 'Subscription', conversationPresence: Array<{ __typename: 'Viewer', userId: string, name: string, typing: boolean }> };

export type PublishFlowMutationVariables = Exact<{
  id: string;
  version?: number | null | undefined;
}>;


export type PublishFlowMutation = { __typename: 'Mutation', publishFlow: { __typename: 'Flow', id: string, name: string, version: number, publishedVersion: number | null, publishedAt: string | null, resumeWithinMinutes: number, createdAt: string, updatedAt: string } };

export type RefreshMutationVariables = Exact<{
  token: string;
}>;


export type RefreshMutation = { __typename: 'Mutation', refreshToken: { __typename: 'AuthPayload', accessToken: string, refreshToken: string, expiresIn: number, user: { __typename: 'User', id: string, name: string, email: string | null, role: Role | null } } };

export type ReplyTargetsQueryVariables = Exact<{
  id: string;
}>;


export type ReplyTargetsQuery = { __typename: 'Query', conversation: { __typename: 'Conversation', id: string, replyTargets: Array<{ __typename: 'ReplyTarget', channelId: string, channelName: string, platform: Platform, address: string | null, available: boolean, reason: string | null, requiresTemplate: boolean, isDefault: boolean }> } };

export type RequestExportMutationVariables = Exact<{
  customerId: string;
}>;


export type RequestExportMutation = { __typename: 'Mutation', requestCustomerExport: { __typename: 'CustomerExport', id: string, customerId: string, status: CustomerExportStatus, error: string | null, createdAt: string, finishedAt: string | null, downloadUrl: string | null, downloadExpiresAt: string | null } };

export type SavedViewsQueryVariables = Exact<{ [key: string]: never; }>;


export type SavedViewsQuery = { __typename: 'Query', savedViews: Array<{ __typename: 'SavedView', id: string, name: string, query: string | null, filter: Record<string, unknown>, count: number }> };

export type SaveFlowMutationVariables = Exact<{
  input: SaveFlowInput;
}>;


export type SaveFlowMutation = { __typename: 'Mutation', saveFlow: { __typename: 'Flow', id: string, name: string, version: number, publishedVersion: number | null, publishedAt: string | null, resumeWithinMinutes: number, createdAt: string, updatedAt: string, versions: Array<{ __typename: 'FlowVersion', version: number, note: string | null, createdAt: string, createdById: string | null }> } };

export type SaveNotificationPreferencesMutationVariables = Exact<{
  input: NotificationPreferencesInput;
}>;


export type SaveNotificationPreferencesMutation = { __typename: 'Mutation', saveNotificationPreferences: { __typename: 'NotificationPreferences', mutedKinds: Array<string>, channels: Array<string>, slackWebhookUrl: string | null, timezone: string, quietStart: string | null, quietEnd: string | null } };

export type SaveViewMutationVariables = Exact<{
  name: string;
  filter?: ConversationFilter | null | undefined;
  query?: string | null | undefined;
}>;


export type SaveViewMutation = { __typename: 'Mutation', saveView: { __typename: 'SavedView', id: string, name: string, query: string | null, filter: Record<string, unknown>, count: number } };

export type SearchQueryVariables = Exact<{
  query: string;
  filter?: ConversationFilter | null | undefined;
  after?: string | null | undefined;
}>;


export type SearchQuery = { __typename: 'Query', search: { __typename: 'SearchConnection', edges: Array<{ __typename: 'SearchHit', cursor: string, rank: number, node: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> }, matchedMessage: { __typename: 'Message', id: string, text: string | null, createdAt: string } | null }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type SendMutationVariables = Exact<{
  input: SendMessageInput;
}>;


export type SendMutation = { __typename: 'Mutation', sendMessage: { __typename: 'Message', id: string, conversationId: string, platform: Platform, channelId: string, direction: MessageDirection, kind: MessageKind, text: string | null, status: MessageStatus, errorCode: string | null, errorReason: string | null, clientMessageId: string | null, createdAt: string, editedAt: string | null, deletedAt: string | null, metadata: Record<string, unknown>, sender: { __typename: 'User', id: string, name: string } | null, attachments: Array<{ __typename: 'Attachment', kind: MessageKind, filename: string | null, mimeType: string | null, url: string | null, size: number | null }> } };

export type SetCustomerAttributeMutationVariables = Exact<{
  customerId: string;
  name: string;
  value?: string | null | undefined;
}>;


export type SetCustomerAttributeMutation = { __typename: 'Mutation', setCustomerAttribute: { __typename: 'Customer', id: string, attributes: Array<{ __typename: 'CustomerAttribute', name: string, value: string, updatedAt: string }> } };

export type SetPriorityMutationVariables = Exact<{
  id: string;
  priority: Priority;
}>;


export type SetPriorityMutation = { __typename: 'Mutation', setConversationPriority: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } };

export type SetStatusMutationVariables = Exact<{
  id: string;
  status: ConversationStatus;
  until?: string | null | undefined;
}>;


export type SetStatusMutation = { __typename: 'Mutation', setConversationStatus: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } };

export type SetTypingMutationVariables = Exact<{
  id: string;
  typing: boolean;
}>;


export type SetTypingMutation = { __typename: 'Mutation', setTyping: boolean };

export type SimulateMutationVariables = Exact<{
  channel: string;
  waId: string;
  name: string;
  text: string;
}>;


export type SimulateMutation = { __typename: 'Mutation', simulateInboundMessage: boolean };

export type SimulateFlowMutationVariables = Exact<{
  definition: FlowDefinitionInput;
  script: Array<string> | string;
  platform: Platform;
  customer?: Record<string, unknown> | null | undefined;
}>;


export type SimulateFlowMutation = { __typename: 'Mutation', simulateFlow: { __typename: 'FlowSimulation', status: string, node: string | null, variables: Record<string, unknown>, unusedMessages: number, transcript: Array<{ __typename: 'FlowTranscriptEntry', from: string, text: string | null, node: string | null, details: Record<string, unknown> }>, steps: Array<{ __typename: 'FlowSimulationStep', event: Record<string, unknown>, actions: Record<string, unknown>, node: string | null, status: string, variables: Record<string, unknown> }> } };

export type SplitIdentityMutationVariables = Exact<{
  identityId: string;
}>;


export type SplitIdentityMutation = { __typename: 'Mutation', splitIdentity: { __typename: 'Customer', id: string, name: string | null, phone: string | null, email: string | null, identities: Array<{ __typename: 'Identity', id: string, platform: Platform, channelId: string, externalId: string, displayName: string | null, phone: string | null, email: string | null, lastInboundAt: string | null }> } };

export type TplArchiveMutationVariables = Exact<{
  id: string;
}>;


export type TplArchiveMutation = { __typename: 'Mutation', archiveTemplate: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null, category: string | null, tags: Array<string>, body: string, version: number, usageCount: number, myUsageCount: number, archivedAt: string | null, updatedAt: string } };

export type TplChannelsQueryVariables = Exact<{ [key: string]: never; }>;


export type TplChannelsQuery = { __typename: 'Query', channels: Array<{ __typename: 'Channel', id: string, platform: Platform, name: string, enabled: boolean }> };

export type TplDetailQueryVariables = Exact<{
  id: string;
}>;


export type TplDetailQuery = { __typename: 'Query', template: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null, category: string | null, tags: Array<string>, body: string, version: number, usageCount: number, myUsageCount: number, archivedAt: string | null, updatedAt: string, createdAt: string, content: { __typename: 'TemplateContent', name: string, shortcut: string | null, category: string | null, tags: Array<string>, teamIds: Array<string>, locale: string, timeZone: string, body: string, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }>, variants: Array<{ __typename: 'TemplateVariant', platform: Platform, body: string | null, subject: string | null, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }> | null }>, prompts: Array<{ __typename: 'TemplatePrompt', name: string, label: string }> }, versions: Array<{ __typename: 'TemplateVersion', version: number, note: string | null, createdAt: string, createdById: string | null, content: { __typename: 'TemplateContent', name: string, shortcut: string | null, category: string | null, tags: Array<string>, teamIds: Array<string>, locale: string, timeZone: string, body: string, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }>, variants: Array<{ __typename: 'TemplateVariant', platform: Platform, body: string | null, subject: string | null, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }> | null }>, prompts: Array<{ __typename: 'TemplatePrompt', name: string, label: string }> } }> } };

export type TplDiffQueryVariables = Exact<{
  id: string;
  from: number;
  to: number;
}>;


export type TplDiffQuery = { __typename: 'Query', template: { __typename: 'ResponseTemplate', id: string, diff: { __typename: 'TemplateDiff', fromVersion: number, toVersion: number, changedFields: Array<string>, unified: string } } };

export type TplExperimentsQueryVariables = Exact<{
  templateId: string;
}>;


export type TplExperimentsQuery = { __typename: 'Query', templateExperiments: Array<{ __typename: 'TemplateExperiment', id: string, templateId: string, version: number, startedAt: string, stoppedAt: string | null, running: boolean, alpha: number, promotedArm: string | null, promotedVersion: number | null }> };

export type TplExperimentReportQueryVariables = Exact<{
  id: string;
}>;


export type TplExperimentReportQuery = { __typename: 'Query', templateExperiment: { __typename: 'TemplateExperimentReport', id: string, templateId: string, version: number, startedAt: string, stoppedAt: string | null, running: boolean, alpha: number, promotedArm: string | null, promotedVersion: number | null, winner: string | null, method: string, arms: Array<{ __typename: 'ExperimentArm', name: string, body: string, weight: number, conversations: number, meanReplySeconds: number | null, replied: { __typename: 'ExperimentRate', successes: number, conversations: number, rate: number | null, low: number | null, high: number | null }, resolved: { __typename: 'ExperimentRate', successes: number, conversations: number, rate: number | null, low: number | null, high: number | null }, repliedVsControl: { __typename: 'ExperimentComparison', difference: number | null, low: number | null, high: number | null, pValue: number | null, significant: boolean } | null, resolvedVsControl: { __typename: 'ExperimentComparison', difference: number | null, low: number | null, high: number | null, pValue: number | null, significant: boolean } | null }> } };

export type TplListQueryVariables = Exact<{
  query?: string | null | undefined;
  category?: string | null | undefined;
  tag?: string | null | undefined;
  archived: boolean;
  after?: string | null | undefined;
}>;


export type TplListQuery = { __typename: 'Query', templates: { __typename: 'ResponseTemplateConnection', edges: Array<{ __typename: 'ResponseTemplateEdge', cursor: string, node: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null, category: string | null, tags: Array<string>, body: string, version: number, usageCount: number, myUsageCount: number, archivedAt: string | null, updatedAt: string } }>, pageInfo: { __typename: 'PageInfo', hasNextPage: boolean, endCursor: string | null } } };

export type TplPickQueryVariables = Exact<{
  query?: string | null | undefined;
}>;


export type TplPickQuery = { __typename: 'Query', templates: { __typename: 'ResponseTemplateConnection', edges: Array<{ __typename: 'ResponseTemplateEdge', node: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null, body: string, usageCount: number, myUsageCount: number, content: { __typename: 'TemplateContent', prompts: Array<{ __typename: 'TemplatePrompt', name: string, label: string }> } } }> } };

export type TplPromoteMutationVariables = Exact<{
  id: string;
  arm: string;
}>;


export type TplPromoteMutation = { __typename: 'Mutation', promoteTemplateVariant: { __typename: 'PromotedVariant', experiment: { __typename: 'TemplateExperiment', id: string, templateId: string, version: number, startedAt: string, stoppedAt: string | null, running: boolean, alpha: number, promotedArm: string | null, promotedVersion: number | null }, template: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null, category: string | null, tags: Array<string>, body: string, version: number, usageCount: number, myUsageCount: number, archivedAt: string | null, updatedAt: string } } };

export type TplRenderQueryVariables = Exact<{
  id: string;
  conversationId: string;
  channelId?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
}>;


export type TplRenderQuery = { __typename: 'Query', renderTemplate: { __typename: 'RenderedTemplate', templateId: string, version: number, variant: string, platform: Platform, channelId: string, text: string, subject: string | null, problems: Array<string>, arm: string | null, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }> } };

export type TplRollbackMutationVariables = Exact<{
  id: string;
  version: number;
}>;


export type TplRollbackMutation = { __typename: 'Mutation', rollbackTemplate: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null, category: string | null, tags: Array<string>, body: string, version: number, usageCount: number, myUsageCount: number, archivedAt: string | null, updatedAt: string, content: { __typename: 'TemplateContent', name: string, shortcut: string | null, category: string | null, tags: Array<string>, teamIds: Array<string>, locale: string, timeZone: string, body: string, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }>, variants: Array<{ __typename: 'TemplateVariant', platform: Platform, body: string | null, subject: string | null, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }> | null }>, prompts: Array<{ __typename: 'TemplatePrompt', name: string, label: string }> } } };

export type TplSaveMutationVariables = Exact<{
  input: SaveTemplateInput;
}>;


export type TplSaveMutation = { __typename: 'Mutation', saveTemplate: { __typename: 'ResponseTemplate', id: string, name: string, shortcut: string | null, category: string | null, tags: Array<string>, body: string, version: number, usageCount: number, myUsageCount: number, archivedAt: string | null, updatedAt: string, content: { __typename: 'TemplateContent', name: string, shortcut: string | null, category: string | null, tags: Array<string>, teamIds: Array<string>, locale: string, timeZone: string, body: string, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }>, variants: Array<{ __typename: 'TemplateVariant', platform: Platform, body: string | null, subject: string | null, buttons: Array<{ __typename: 'TemplateButton', id: string, title: string, url: string | null }> | null }>, prompts: Array<{ __typename: 'TemplatePrompt', name: string, label: string }> } } };

export type TplStartExperimentMutationVariables = Exact<{
  input: StartTemplateExperimentInput;
}>;


export type TplStartExperimentMutation = { __typename: 'Mutation', startTemplateExperiment: { __typename: 'TemplateExperiment', id: string, templateId: string, version: number, startedAt: string, stoppedAt: string | null, running: boolean, alpha: number, promotedArm: string | null, promotedVersion: number | null } };

export type TplStopExperimentMutationVariables = Exact<{
  id: string;
}>;


export type TplStopExperimentMutation = { __typename: 'Mutation', stopTemplateExperiment: { __typename: 'TemplateExperiment', id: string, templateId: string, version: number, startedAt: string, stoppedAt: string | null, running: boolean, alpha: number, promotedArm: string | null, promotedVersion: number | null } };

export type TplWhatsappQueryVariables = Exact<{
  channelId: string;
  status?: WhatsappTemplateStatus | null | undefined;
}>;


export type TplWhatsappQuery = { __typename: 'Query', whatsappTemplates: Array<{ __typename: 'WhatsappTemplate', channelId: string, name: string, language: string, category: string | null, status: WhatsappTemplateStatus, statusReason: string | null, statusChangedAt: string, parameterFormat: string, components: Record<string, unknown>, syncedAt: string, parameters: Array<{ __typename: 'WhatsappTemplateParameter', part: string, type: string, name: string, optional: boolean }> }> };

export type TplWhatsappSyncMutationVariables = Exact<{
  channelId: string;
}>;


export type TplWhatsappSyncMutation = { __typename: 'Mutation', syncWhatsappTemplates: { __typename: 'WhatsappTemplateSync', channelId: string, count: number, removed: number, syncedAt: string } };

export type TransferMutationVariables = Exact<{
  id: string;
  reason: string;
  toUserId?: string | null | undefined;
  toTeamId?: string | null | undefined;
}>;


export type TransferMutation = { __typename: 'Mutation', transferConversation: { __typename: 'Conversation', id: string, status: ConversationStatus, platform: Platform, unreadCount: number, lastMessageAt: string | null, priority: Priority, labels: Array<string>, snoozedUntil: string | null, queuedAt: string | null, teamId: string | null, channel: { __typename: 'Channel', id: string }, customer: { __typename: 'Customer', id: string, name: string | null, phone: string | null }, assignee: { __typename: 'User', id: string, name: string } | null, lastMessage: { __typename: 'Message', id: string, text: string | null, kind: MessageKind, direction: MessageDirection, status: MessageStatus, createdAt: string } | null, slaTimers: Array<{ __typename: 'SlaTimer', id: string, kind: string, dueAt: string, warnAt: string, metAt: string | null, breachedAt: string | null, cancelledAt: string | null }> } };

export type UnpublishFlowMutationVariables = Exact<{
  id: string;
}>;


export type UnpublishFlowMutation = { __typename: 'Mutation', unpublishFlow: { __typename: 'Flow', id: string, name: string, version: number, publishedVersion: number | null, publishedAt: string | null, resumeWithinMinutes: number, createdAt: string, updatedAt: string } };

export type ViewCountsSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ViewCountsSubscription = { __typename: 'Subscription', savedViewCounts: Array<{ __typename: 'ViewCount', viewId: string, count: number }> };
