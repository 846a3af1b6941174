"""The read path planner: query documents over the hot types (conversations, messages, customers,
users, channels, activities, search results) run without graphql-core resolving them field by
field. See compile.py (what a plan covers), run.py (how it runs), sql_json.py (the inbox answered by
one statement) and execution.py (where it hooks in, the plan cache and the fallback to
the general executor)."""

from schema.planner.execution import PLANS, STATS, PlannedExecutionContext

__all__ = ["PLANS", "STATS", "PlannedExecutionContext"]
