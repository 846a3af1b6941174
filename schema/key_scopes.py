"""Which scope admits an API key to each root field (the other half of each field's Access: the
role rule still applies, to the key's creator). A field not listed here is closed to keys, so a
new field is never opened to integrators by accident; tests/test_api_keys.py fails until every
root field is listed, with a scope or NO_KEYS."""

from __future__ import annotations

from resolvers.api_keys import Scope

NO_KEYS = None  # signing in, sessions, presence and key management are for people only

_READ_CONVERSATIONS = (
    "me node search savedViews conversations conversation "
    "Subscription.inboxEvents Subscription.conversationEvents Subscription.savedViewCounts "
    "Subscription.conversationPresence"
)
_WRITE_CONVERSATIONS = (
    "assignConversation markConversationRead setTyping setConversationStatus setConversationPriority "
    "changeConversationLabels transferConversation escalateConversation addNote bulkUpdateConversations "
    "saveView deleteView"
)
_BY_SCOPE: dict[Scope | None, str] = {
    Scope.CONVERSATIONS_READ: _READ_CONVERSATIONS,
    Scope.CONVERSATIONS_WRITE: f"{_WRITE_CONVERSATIONS} recordConversion",
    Scope.MESSAGES_SEND: "sendMessage",
    Scope.CUSTOMERS_WRITE: "mergeCustomers splitIdentity setCustomerAttribute",
    Scope.TEMPLATES_READ: "templates template renderTemplate whatsappTemplates",
    Scope.TEMPLATES_MANAGE: (
        "saveTemplate archiveTemplate rollbackTemplate startTemplateExperiment stopTemplateExperiment "
        "promoteTemplateVariant syncWhatsappTemplates"
    ),
    Scope.METRICS_READ: (
        "templateExperiments templateExperiment Subscription.slaEvents "
        "csatResponses csatSummary csatSettings platformPrices conversionLabels platformCosts metrics dashboard metricDefinitions"
        " alertRules alerts Subscription.alertEvents Subscription.dashboardUpdates"
    ),
    Scope.FLOWS_READ: "flows flow simulateFlow flowExecutions flowNodeTypes",
    Scope.FLOWS_MANAGE: "saveFlow publishFlow unpublishFlow cancelFlowExecution",
    Scope.CHANNELS_READ: "channels",
    Scope.CHANNELS_MANAGE: (
        "createChannel updateChannel rotateWebhookSecret endWebhookSecretGrace registerChannelWebhook "
        "saveCsatSettings savePlatformPrices saveConversionLabels"
    ),
    Scope.TEAMS_READ: "teams knownSkills routingRules slaPolicies",
    Scope.TEAMS_MANAGE: (
        "saveTeam deleteTeam addRoutingRule updateRoutingRule deleteRoutingRule reorderRoutingRules updateAgent "
        "createSlaPolicy updateSlaPolicy deleteSlaPolicy"
    ),
    Scope.USERS_READ: "users",
    Scope.AUDIT_READ: "auditLog",
    Scope.WEBHOOKS_MANAGE: (
        "webhookEndpoints webhookDeliveries saveWebhookEndpoint deleteWebhookEndpoint "
        "rotateWebhookEndpointSecret replayWebhookDeliveries"
    ),
    Scope.PRIVACY_MANAGE: (
        "customerExport retentionPolicies requestCustomerExport eraseCustomer setChannelRetention"
    ),
    NO_KEYS: (
        "login refreshToken logout createUser setMyPresence demo simulateInboundMessage "
        "apiKeys createApiKey revokeApiKey"
        " modules enableModule disableModule configureModule"  # installing code's behaviour: people only
        # managing people and one's own account: people only
        " inviteUser deactivateUser reactivateUser updateUser updateMyProfile changeMyPassword"
        " acceptInvitation requestPasswordReset resetPassword"
        # Report files are handed out by links signed for a person, and schedules e-mail anyone.
        " reports reportSchedules requestReport scheduleReport deleteReportSchedule"
        # alert rules and acknowledgements are a supervisor's decisions; notifications are personal
        " saveAlertRule deleteAlertRule acknowledgeAlert notifications notificationPreferences"
        " markNotificationsRead saveNotificationPreferences Subscription.notificationEvents"
    ),
}


def _table() -> dict[str, Scope | None]:
    table: dict[str, Scope | None] = {}
    for scope, names in _BY_SCOPE.items():
        for name in names.split():
            # A bare name is a Query or Mutation field (they never share a name); subscriptions
            # are written Subscription.<field>, since one may share a query's name.
            table[name if "." in name else f"*.{name}"] = scope
    return table


KEY_SCOPES = _table()


def listed(root: str, field: str) -> bool:
    return (f"{root}.{field}" if root == "Subscription" else f"*.{field}") in KEY_SCOPES


def scope_for(root: str, field: str) -> Scope | None:
    """The scope a key needs for root.field; NO_KEYS when keys may not call it (or it is unlisted)."""
    name = f"{root}.{field}" if root == "Subscription" else f"*.{field}"
    return KEY_SCOPES.get(name, NO_KEYS)
