"""The GraphQL surface. Each domain module (mirroring resolvers/) defines its types and a
`…Queries`/`…Mutations` class; the root Query and Mutation are merged from them here, so a new
domain is one new module and one line in each list below."""

from __future__ import annotations

import logging
import warnings

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from core.settings import get_settings
from schema.alerts import AlertMutations, AlertQueries, AlertSubscriptions
from schema.api_keys import ApiKeyMutations, ApiKeyQueries
from schema.arguments import check_arguments_everywhere
from schema.audit import AuditQueries
from schema.auth import AuthMutations, AuthQueries, User
from schema.channels import Channel, ChannelMutations, ChannelQueries
from schema.conversations import Conversation, ConversationMutations, ConversationQueries
from schema.cost import CostPlans, QueryCost
from schema.csat import CsatMutations, CsatQueries
from schema.customers import Customer, CustomerMutations
from schema.dashboard_live import DashboardSubscriptions
from schema.demo import DemoMutations, DemoQueries
from schema.document_cache import CachedDocuments, DocumentCache
from schema.errors import ErrorCodes, _is_expected
from schema.flows import FlowMutations, FlowQueries
from schema.lifecycle import LifecycleMutations
from schema.messages import Message, MessageMutations
from schema.metrics import MetricQueries
from schema.modules import ModuleMutations, ModuleQueries
from schema.node import NodeQueries
from schema.notifications import NotificationMutations, NotificationQueries, NotificationSubscriptions
from schema.outgoing_webhooks import OutgoingWebhookMutations, OutgoingWebhookQueries
from schema.permissions import access_of
from schema.planner import PlannedExecutionContext
from schema.privacy import PrivacyMutations, PrivacyQueries
from schema.reports import ReportMutations, ReportQueries
from schema.roi import RoiMutations, RoiQueries
from schema.search import SearchMutations, SearchQueries
from schema.sla import SlaMutations, SlaQueries
from schema.subscriptions import Subscription
from schema.teams import Team, TeamMutations, TeamQueries
from schema.template_experiments import TemplateExperimentMutations, TemplateExperimentQueries
from schema.templates import ResponseTemplate, TemplateMutations, TemplateQueries
from schema.users import UserMutations
from schema.whatsapp_templates import WhatsappTemplateMutations, WhatsappTemplateQueries

log = logging.getLogger("pytake.graphql")

# Two domains defining the same field is a mistake (the first would silently win): merge_types
# only warns about it, so fail at import instead.
with warnings.catch_warnings():
    warnings.filterwarnings("error", message=".* has overridden fields")
    Query = merge_types(
        "Query",
        (
            AuthQueries,
            NodeQueries,
            SearchQueries,
            ConversationQueries,
            TeamQueries,
            ChannelQueries,
            DemoQueries,
            TemplateQueries,
            FlowQueries,
            TemplateExperimentQueries,
            WhatsappTemplateQueries,
            AuditQueries,
            PrivacyQueries,
            ReportQueries,
            ApiKeyQueries,
            OutgoingWebhookQueries,
            ModuleQueries,
            CsatQueries,
            RoiQueries,
            SlaQueries,
            MetricQueries,
            AlertQueries,
            NotificationQueries,
        ),
    )
    Mutation = merge_types(
        "Mutation",
        (
            AuthMutations,
            MessageMutations,
            ConversationMutations,
            ChannelMutations,
            LifecycleMutations,
            TeamMutations,
            SlaMutations,
            SearchMutations,
            CustomerMutations,
            DemoMutations,
            TemplateMutations,
            FlowMutations,
            TemplateExperimentMutations,
            WhatsappTemplateMutations,
            PrivacyMutations,
            ReportMutations,
            ApiKeyMutations,
            OutgoingWebhookMutations,
            ModuleMutations,
            UserMutations,
            CsatMutations,
            RoiMutations,
            AlertMutations,
            NotificationMutations,
        ),
    )
    # Live views of their own domains join the conversation ones (schema/subscriptions.py).
    Subscription = merge_types(
        "Subscription", (Subscription, AlertSubscriptions, NotificationSubscriptions, DashboardSubscriptions)
    )

NODE_TYPES = (Conversation, Message, User, Channel, Customer, Team, ResponseTemplate)


def _require_access_everywhere(*roots: type) -> None:
    """Every root field says who may call it (schema/permissions.py): a field added without it
    would leave the order of "who may ask" and "is the argument valid" to its resolver."""
    for root in roots:
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            if access_of(field) is None:
                raise TypeError(f"{root.__name__}.{field.python_name} declares no Access (extensions=[...])")


_require_access_everywhere(Query, Mutation, Subscription)
check_arguments_everywhere((Query, Mutation, Subscription, *NODE_TYPES))


class PyTakeSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors are answers, not crashes: no traceback in the log (ErrorCodes logs the rest).
        for error in errors:
            if _is_expected(error):
                log.debug("graphql error: %s", error.message)


def build_schema(max_depth: int | None = None) -> strawberry.Schema:
    settings = get_settings()
    # Agents' screens send the same few documents all day: parse and validate each once, with
    # the depth and alias limits' rules built here, once (schema/document_cache.py).
    documents = DocumentCache(
        max_depth=max_depth or settings.graphql_max_depth, max_aliases=settings.graphql_max_aliases
    )
    plans = CostPlans()  # each document's cost plan, built once (schema/cost.py)
    return PyTakeSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(NODE_TYPES),
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
            lambda: CachedDocuments(documents),
            lambda: QueryCost(plans),  # after CachedDocuments: sees its validation errors
            ErrorCodes,
        ],
        # Live views must not grow per event (schema/execution.py); HTTP queries over the hot types
        # run their plan, the rest the general executor (schema/planner/).
        execution_context_class=PlannedExecutionContext,
    )
