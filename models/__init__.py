"""Tortoise models: the tables. No network calls and no business rules here (see resolvers/)."""

from models.alerts import Alert, AlertEvaluation, AlertRule, AlertTransition
from models.api_keys import ApiKey
from models.audit import AuditLog
from models.channels import Channel, ChannelCursor
from models.conversations import (
    Conversation,
    ConversationActivity,
    ConversationStatus,
    Priority,
    SlaPolicy,
    SlaTimer,
)
from models.csat import CsatAnswer, CsatSettings, CsatSurvey
from models.customers import Customer, CustomerIdentity
from models.events import Event, EventOutbox, StreamHead
from models.flows import (
    CustomerAttribute,
    ExecutionStatus,
    Flow,
    FlowExecution,
    FlowExecutionStep,
    FlowInboundCursor,
    FlowVersion,
)
from models.messages import Direction, Message, MessageStatus, MessageStatusChange, OrphanStatus
from models.metrics import MetricCursor, MetricFact, MetricRollup
from models.metrics_history import AgentStatusLog, ConversationStateLog, ConversationWorkLog
from models.modules import ModuleConfiguration, ModuleState
from models.notifications import Notification, NotificationDelivery, NotificationPreference, NotifierCursor
from models.prices import Conversion, ConversionLabel, PlatformPrice
from models.privacy import CustomerErasure, CustomerExport, ExportStatus, RetentionPolicy, ScheduledRun
from models.reports import Report, ReportFrequency, ReportKind, ReportSchedule, ReportStatus
from models.tasks import TaskOutbox
from models.templates import (
    ResponseTemplate,
    ResponseTemplateExperiment,
    ResponseTemplateUsage,
    ResponseTemplateVersion,
)
from models.users import (
    AssignmentStrategy,
    Presence,
    RefreshToken,
    Role,
    RoutingRule,
    Team,
    TeamMember,
    User,
    UserToken,
)
from models.webhooks import WebhookAttempt, WebhookDelivery, WebhookDispatcher, WebhookEndpoint
from models.whatsapp_templates import WhatsappTemplate, WhatsappTemplateSync

__all__ = [
    "AgentStatusLog",
    "Alert",
    "AlertEvaluation",
    "AlertRule",
    "AlertTransition",
    "ApiKey",
    "AssignmentStrategy",
    "AuditLog",
    "Channel",
    "ChannelCursor",
    "Conversation",
    "ConversationActivity",
    "ConversationStateLog",
    "ConversationStatus",
    "ConversationWorkLog",
    "Conversion",
    "ConversionLabel",
    "CsatAnswer",
    "CsatSettings",
    "CsatSurvey",
    "Customer",
    "CustomerAttribute",
    "CustomerErasure",
    "CustomerExport",
    "CustomerIdentity",
    "Direction",
    "Event",
    "EventOutbox",
    "ExecutionStatus",
    "ExportStatus",
    "Flow",
    "FlowExecution",
    "FlowExecutionStep",
    "FlowInboundCursor",
    "FlowVersion",
    "Message",
    "MessageStatus",
    "MessageStatusChange",
    "MetricCursor",
    "MetricFact",
    "MetricRollup",
    "ModuleConfiguration",
    "ModuleState",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "NotifierCursor",
    "OrphanStatus",
    "PlatformPrice",
    "Presence",
    "Priority",
    "RefreshToken",
    "Report",
    "ReportFrequency",
    "ReportKind",
    "ReportSchedule",
    "ReportStatus",
    "ResponseTemplate",
    "ResponseTemplateExperiment",
    "ResponseTemplateUsage",
    "ResponseTemplateVersion",
    "RetentionPolicy",
    "Role",
    "RoutingRule",
    "ScheduledRun",
    "SlaPolicy",
    "SlaTimer",
    "StreamHead",
    "TaskOutbox",
    "Team",
    "TeamMember",
    "User",
    "UserToken",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookDispatcher",
    "WebhookEndpoint",
    "WhatsappTemplate",
    "WhatsappTemplateSync",
]
