"""A/B experiments on response templates: start, stop, promote an arm, and the report (rules in
resolvers/template_experiments.py; the statistics in resolvers/template_stats.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from resolvers import template_experiments as experiments
from resolvers.template_stats import Comparison, Rate
from schema.permissions import ADMINS, SUPERVISORS, actor_of
from schema.relay import decode_id, to_global_id
from schema.templates import ResponseTemplate


@strawberry.type(description="A rate with its always-valid confidence interval (mSPRT).")
class ExperimentRate:
    successes: int
    conversations: int
    rate: float | None = strawberry.field(description="Null while no conversation was exposed.")
    low: float | None
    high: float | None

    @classmethod
    def of(cls, r: Rate) -> ExperimentRate:
        return cls(successes=r.successes, conversations=r.units, rate=r.rate, low=r.low, high=r.high)


@strawberry.type(description="An arm against the control: the difference of rates (arm − control).")
class ExperimentComparison:
    difference: float | None
    low: float | None = strawberry.field(description="Always-valid interval of the difference.")
    high: float | None
    likelihood_ratio: float | None = strawberry.field(description="The mSPRT's mixture likelihood ratio Λ.")
    p_value: float | None = strawberry.field(description="Always valid: min(1, 1/Λ).")
    significant: bool = strawberry.field(
        description="Λ ≥ 1/α (α shared among the arms), with at least 10 conversations in each arm."
    )

    @classmethod
    def of(cls, c: Comparison | None) -> ExperimentComparison | None:
        if c is None:
            return None
        return cls(
            difference=c.difference,
            low=c.low,
            high=c.high,
            likelihood_ratio=c.likelihood_ratio,
            p_value=c.p_value,
            significant=c.significant,
        )


@strawberry.type
class ExperimentArm:
    name: str
    body: str
    weight: int
    conversations: int = strawberry.field(description="Conversations that received this arm.")
    replied: ExperimentRate = strawberry.field(description="The customer wrote after the templated message.")
    resolved: ExperimentRate = strawberry.field(description="The conversation is resolved or closed now.")
    mean_reply_seconds: float | None
    median_reply_seconds: float | None
    replied_vs_control: ExperimentComparison | None = strawberry.field(description="Null on the control.")
    resolved_vs_control: ExperimentComparison | None
    rated: int = strawberry.field(
        description="Conversations with a CSAT score from a survey sent after this arm's message "
        "(the answer that counts; with several surveys, the latest)."
    )
    mean_score: float | None = strawberry.field(description="Mean CSAT score (1–5); null while none rated.")
    satisfied: ExperimentRate = strawberry.field(
        description="CSAT 4 or 5, over the rated conversations (its `conversations` is the rated count)."
    )
    satisfied_vs_control: ExperimentComparison | None = strawberry.field(description="Null on the control.")


@strawberry.type
class TemplateExperiment:
    id: strawberry.ID
    template_id: strawberry.ID
    version: int = strawberry.field(description="The template's version the arms were written against.")
    started_at: datetime
    stopped_at: datetime | None
    running: bool
    alpha: float
    mixing_variance: float = strawberry.field(description="τ² of the mSPRT's normal mixture.")
    promoted_arm: str | None
    promoted_version: int | None
    pk: strawberry.Private[int]

    @classmethod
    def from_view(cls, v: dict[str, Any]) -> TemplateExperiment:
        return cls(
            id=to_global_id("TemplateExperiment", v["id"]),
            template_id=to_global_id("ResponseTemplate", v["template_id"]),
            version=v["version"],
            started_at=v["started_at"],
            stopped_at=v["stopped_at"],
            running=v["stopped_at"] is None,
            alpha=v["alpha"],
            mixing_variance=v["mixing_variance"],
            promoted_arm=v["promoted_arm"],
            promoted_version=v["promoted_version"],
            pk=v["id"],
        )


@strawberry.type(description="The experiment with each arm's outcomes, counted from the messages.")
class TemplateExperimentReport(TemplateExperiment):
    arms: list[ExperimentArm] = strawberry.field(description="The first is the control.")
    winner: str | None = strawberry.field(
        description="The arm significantly better than the control on the reply rate (the best of "
        "them), the control when every arm is significantly worse, else null: keep collecting."
    )
    method: str

    @classmethod
    def from_report(cls, r: dict[str, Any]) -> TemplateExperimentReport:
        base = TemplateExperiment.from_view(r)
        return cls(
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            arms=[
                ExperimentArm(
                    name=a["name"],
                    body=a["body"],
                    weight=a["weight"],
                    conversations=a["conversations"],
                    replied=ExperimentRate.of(a["replied"]),
                    resolved=ExperimentRate.of(a["resolved"]),
                    mean_reply_seconds=a["mean_reply_seconds"],
                    median_reply_seconds=a["median_reply_seconds"],
                    replied_vs_control=ExperimentComparison.of(a["replied_vs_control"]),
                    resolved_vs_control=ExperimentComparison.of(a["resolved_vs_control"]),
                    rated=a["rated"],
                    mean_score=a["mean_score"],
                    satisfied=ExperimentRate.of(a["satisfied"]),
                    satisfied_vs_control=ExperimentComparison.of(a["satisfied_vs_control"]),
                )
                for a in r["arms"]
            ],
            winner=r["winner"],
            method=r["method"],
        )


@strawberry.type
class PromotedVariant:
    experiment: TemplateExperiment
    template: ResponseTemplate


@strawberry.input
class ExperimentArmInput:
    name: str | None = strawberry.field(default=None, description="A, B, … when left out.")
    body: str | None = strawberry.field(default=None, description="Null: the template's current body.")
    weight: int = strawberry.field(default=1, description="Share of conversations, 1 to 1000.")


@strawberry.input
class StartTemplateExperimentInput:
    template_id: strawberry.ID
    arms: list[ExperimentArmInput] = strawberry.field(description="2 to 10; the first is the control.")


@strawberry.type
class TemplateExperimentQueries:
    @strawberry.field(extensions=[SUPERVISORS], description="Supervisors: an experiment's report.")
    async def template_experiment(self, info: strawberry.Info, id: strawberry.ID) -> TemplateExperimentReport:
        report = await experiments.experiment_report(actor_of(info), decode_id(id, "TemplateExperiment"))
        return TemplateExperimentReport.from_report(report)

    @strawberry.field(
        extensions=[SUPERVISORS], description="Supervisors: a template's experiments, newest first."
    )
    async def template_experiments(
        self, info: strawberry.Info, template_id: strawberry.ID
    ) -> list[TemplateExperiment]:
        rows = await experiments.list_experiments(
            actor_of(info), decode_id(template_id, "ResponseTemplate", "templateId")
        )
        return [TemplateExperiment.from_view(r) for r in rows]


@strawberry.type
class TemplateExperimentMutations:
    @strawberry.mutation(
        extensions=[SUPERVISORS],
        description="Supervisors: run an A/B test between bodies of a template (audited). Saving the "
        "template waits until it is stopped.",
    )
    async def start_template_experiment(
        self, info: strawberry.Info, input: StartTemplateExperimentInput
    ) -> TemplateExperiment:
        row = await experiments.start_experiment(
            actor_of(info),
            decode_id(input.template_id, "ResponseTemplate", "input.templateId"),
            [{"name": a.name, "body": a.body, "weight": a.weight} for a in input.arms],
        )
        return TemplateExperiment.from_view(row)

    @strawberry.mutation(extensions=[SUPERVISORS], description="Supervisors: stop an experiment (audited).")
    async def stop_template_experiment(self, info: strawberry.Info, id: strawberry.ID) -> TemplateExperiment:
        return TemplateExperiment.from_view(
            await experiments.stop_experiment(actor_of(info), decode_id(id, "TemplateExperiment"))
        )

    @strawberry.mutation(
        extensions=[ADMINS],
        description="Admins: the arm's body becomes a new version of the template; a running "
        "experiment stops (audited).",
    )
    async def promote_template_variant(
        self, info: strawberry.Info, id: strawberry.ID, arm: str
    ) -> PromotedVariant:
        experiment, template = await experiments.promote_arm(
            actor_of(info), decode_id(id, "TemplateExperiment"), arm
        )
        return PromotedVariant(
            experiment=TemplateExperiment.from_view(experiment), template=ResponseTemplate.from_view(template)
        )
