"""Response templates: saved replies agents send with a shortcut, filled in for the conversation.

A template is a universal body (plus buttons) and optional variants per platform (a shorter SMS
body, an e-mail subject, buttons where the platform has them). Every save writes an immutable
version; a rollback writes a new version equal to an old one; a sent message records the
template, version and variant it came from. Supervisors and admins change templates (audited);
agents read the ones visible to their teams and use them. Syntax and rendering:
resolvers/template_rendering.py.
"""

from __future__ import annotations

import base64
import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from connectors.base import Button, Platform
from connectors.registry import get_connector
from core.auth import Actor
from core.sql import fetch, fetchrow, in_transaction
from resolvers import audit
from resolvers.auth import require_supervisor, require_user
from resolvers.errors import BadInput, Conflict, NotFound
from resolvers.targets import ReplyTarget, resolve_target
from resolvers.template_arms import running_arm
from resolvers.template_rendering import (
    PROMPT_NAME,
    RESERVED,
    RenderContext,
    check,
    locale_of,
    render,
    valid_locale,
    valid_time_zone,
)
from resolvers.visibility import check_conversation

MAX_BODY = 10_000
MAX_BUTTONS = 10
MAX_TAGS = 20
MAX_PROMPTS = 20
MAX_PAGE = 100
SHORTCUT = re.compile(r"^/[a-z0-9][a-z0-9_-]{0,38}$")
SLUG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")
_BRACES = re.compile(r"\{\{|\}\}|\{%|%\}")
COLUMNS = (
    "id, name, shortcut, category, tags, team_ids, body, version, usage_count, archived_at, "
    "created_at, updated_at"
)


@dataclass(frozen=True)
class Rendered:
    template_id: int
    version: int
    variant: str  # the platform whose variant was used, or "universal"
    platform: str
    text: str
    subject: str | None
    buttons: tuple[Button, ...]
    problems: tuple[str, ...]  # the platform's limits this text breaks (a send refuses on them)
    experiment_id: int | None = None  # the running experiment this send is part of, and its arm
    arm: str | None = None

    def metadata(self) -> dict[str, Any]:
        """What a sent message records in metadata.response_template (experiments count from it)."""
        recorded: dict[str, Any] = {"id": self.template_id, "version": self.version, "variant": self.variant}
        if self.experiment_id is not None:
            recorded |= {"experiment": self.experiment_id, "arm": self.arm}
        return recorded


@dataclass
class TemplatePage:
    items: list[dict[str, Any]] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    has_next: bool = False


# ---- what a template holds ---------------------------------------------------------------------


async def clean_content(raw: dict[str, Any]) -> dict[str, Any]:
    """The content of a version, normalised, or BadInput naming the field (and the variable)."""
    name = " ".join(str(raw.get("name") or "").split())
    if not 1 <= len(name) <= 120:
        raise BadInput("a template's name is 1 to 120 characters", field="name")
    shortcut = (raw.get("shortcut") or "").strip().lower() or None
    if shortcut is not None:
        shortcut = shortcut if shortcut.startswith("/") else f"/{shortcut}"
        if not SHORTCUT.match(shortcut):
            raise BadInput(
                "a shortcut is / and 1 to 39 letters, digits, - or _ (e.g. /entrega)", field="shortcut"
            )
    category = (raw.get("category") or "").strip().lower() or None
    if category is not None and not SLUG.match(category):
        raise BadInput("a category is 1 to 40 lower-case letters, digits, spaces, - or _", field="category")
    tags = list(dict.fromkeys(t.strip().lower() for t in raw.get("tags") or () if t.strip()))
    if len(tags) > MAX_TAGS or not all(SLUG.match(t) for t in tags):
        raise BadInput(f"at most {MAX_TAGS} tags, each like a category", field="tags")
    team_ids = sorted(set(raw.get("team_ids") or ()))
    if team_ids:
        found = await fetch("SELECT count(*) AS n FROM teams WHERE id = ANY($1::int[])", team_ids)
        if found[0]["n"] != len(team_ids):
            raise NotFound("some teams do not exist", field="teamIds")
    locale = (raw.get("locale") or "pt_BR").strip()
    if not valid_locale(locale):
        raise BadInput(f"{locale!r} is not a locale (e.g. pt_BR, en_US)", field="locale")
    time_zone = (raw.get("time_zone") or "America/Sao_Paulo").strip()
    if not valid_time_zone(time_zone):
        raise BadInput(f"{time_zone!r} is not a time zone (e.g. America/Sao_Paulo)", field="timeZone")
    prompts = _clean_prompts(raw.get("prompts") or [])
    names = {p["name"] for p in prompts}
    body = str(raw.get("body") or "")
    _check_text(body, names, "body", required=True)
    buttons = _clean_buttons(raw.get("buttons") or [], "buttons")
    variants = {}
    for platform_name, variant in (raw.get("variants") or {}).items():
        variants[platform_name] = _clean_variant(platform_name, variant, names)
    return {
        "name": name,
        "shortcut": shortcut,
        "category": category,
        "tags": tags,
        "team_ids": team_ids,
        "locale": locale,
        "time_zone": time_zone,
        "body": body,
        "buttons": buttons,
        "variants": dict(sorted(variants.items())),
        "prompts": prompts,
    }


def _clean_prompts(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(raw) > MAX_PROMPTS:
        raise BadInput(f"at most {MAX_PROMPTS} prompts", field="prompts")
    prompts, seen = [], set()
    for p in raw:
        name = str(p.get("name") or "").strip()
        if not PROMPT_NAME.match(name) or name in RESERVED:
            raise BadInput(
                f"prompt {name!r}: a name of lower-case letters, digits and _, not one of the built-in variables",
                field="prompts",
            )
        if name in seen:
            raise BadInput(f"prompt {name!r} is declared twice", field="prompts")
        seen.add(name)
        label = " ".join(str(p.get("label") or name).split())[:120]
        prompts.append({"name": name, "label": label})
    return prompts


def check_body(text: str, prompts: set[str], field: str) -> None:
    """A body as a save checks it: not empty, not too long, only known variables and these prompts."""
    _check_text(text, prompts, field, required=True)


def _check_text(text: str, prompts: set[str], field: str, *, required: bool) -> None:
    if required and not text.strip():
        raise BadInput(f"{field} must not be empty", field=field)
    if len(text) > MAX_BODY:
        raise BadInput(f"{field} is at most {MAX_BODY} characters", field=field)
    check(text, prompts, field)


def _clean_buttons(raw: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    if len(raw) > MAX_BUTTONS:
        raise BadInput(f"at most {MAX_BUTTONS} buttons", field=field)
    buttons = []
    for b in raw:
        button = {
            "id": str(b.get("id") or "").strip(),
            "title": str(b.get("title") or "").strip(),
            "url": b.get("url"),
        }
        if not button["id"] or not 1 <= len(button["title"]) <= 40:
            raise BadInput("each button needs an id and a title of 1 to 40 characters", field=field)
        if button["url"] is not None and not str(button["url"]).startswith(("https://", "http://")):
            raise BadInput("a link button's url must be http(s)", field=field)
        # Buttons are literal text: a placeholder there would reach the customer as it is.
        if _BRACES.search(button["title"]) or _BRACES.search(button["id"]):
            raise BadInput("button titles and ids are literal text, without {{ }}", field=field)
        buttons.append(button)
    return buttons


def _clean_variant(platform_name: str, raw: dict[str, Any], prompts: set[str]) -> dict[str, Any]:
    where = f"variants.{platform_name}"
    try:
        platform = Platform(platform_name)
    except ValueError:
        raise BadInput(f"{platform_name!r} is not a platform", field="variants") from None
    connector = get_connector(platform)
    variant: dict[str, Any] = {}
    if raw.get("body") is not None:
        _check_text(raw["body"], prompts, f"{where}.body", required=True)
        if len(raw["body"]) > connector.max_text_length:
            raise BadInput(
                f"{where}.body is longer than {platform.value} accepts ({connector.max_text_length})",
                field=f"{where}.body",
            )
        variant["body"] = raw["body"]
    if raw.get("subject") is not None:
        if platform is not Platform.EMAIL:
            raise BadInput(
                f"only the e-mail variant has a subject, not {platform.value}", field=f"{where}.subject"
            )
        subject = " ".join(str(raw["subject"]).split())
        if not 1 <= len(subject) <= 200:
            raise BadInput("a subject is 1 to 200 characters", field=f"{where}.subject")
        check(subject, prompts, f"{where}.subject")
        variant["subject"] = subject
    if raw.get("buttons") is not None:
        if raw["buttons"] and not connector.capabilities.buttons:
            raise BadInput(f"{platform.value} has no buttons", field=f"{where}.buttons")
        variant["buttons"] = _clean_buttons(raw["buttons"], f"{where}.buttons")
    if not variant:
        raise BadInput(f"{where} changes nothing: give a body, a subject or buttons", field="variants")
    return variant


# ---- changing templates (supervisors, audited) -------------------------------------------------


async def save_template(
    actor: Actor | None, *, template_id: int | None, content: dict[str, Any], note: str | None = None
) -> dict[str, Any]:
    """Create a template (template_id None) or save a new version of one."""
    actor = require_supervisor(actor)
    cleaned = await clean_content(content)
    async with in_transaction() as conn:
        if template_id is None:
            row = await _insert_template(conn, actor, cleaned)
        else:
            row = await new_version(conn, actor, template_id, cleaned, note)
        await audit.record(
            conn,
            actor,
            "template.create" if template_id is None else "template.update",
            "ResponseTemplate",
            row["id"],
            {"version": row["version"], "name": cleaned["name"]},
        )
    return template_view(row)


async def _insert_template(conn: BaseDBAsyncClient, actor: Actor, content: dict[str, Any]) -> dict[str, Any]:
    await _shortcut_free(conn, content["shortcut"], None)
    rows = await conn.execute_query_dict(
        "INSERT INTO response_templates (name, shortcut, category, tags, team_ids, body, version, created_by_id, "
        f"created_at, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, 1, $7, now(), now()) RETURNING {COLUMNS}",
        [*_row_values(content), actor.user_id],
    )
    await _insert_version(conn, actor, rows[0]["id"], 1, content, None)
    return rows[0]


async def new_version(
    conn: BaseDBAsyncClient, actor: Actor, template_id: int, content: dict[str, Any], note: str | None
) -> dict[str, Any]:
    # The row lock orders concurrent saves: each gets the next version number, none is lost.
    locked = await conn.execute_query_dict(
        "SELECT version, archived_at FROM response_templates WHERE id = $1 FOR UPDATE", [template_id]
    )
    if not locked:
        raise NotFound(f"template {template_id} does not exist", field="id")
    if locked[0]["archived_at"] is not None:
        raise Conflict("the template is archived", field="id")
    await refuse_while_experimenting(conn, template_id)
    await _shortcut_free(conn, content["shortcut"], template_id)
    version = locked[0]["version"] + 1
    rows = await conn.execute_query_dict(
        "UPDATE response_templates SET name = $1, shortcut = $2, category = $3, tags = $4::jsonb, team_ids = $5::jsonb, "
        f"body = $6, version = $7, updated_at = now() WHERE id = $8 RETURNING {COLUMNS}",
        [*_row_values(content), version, template_id],
    )
    await _insert_version(conn, actor, template_id, version, content, note)
    return rows[0]


async def refuse_while_experimenting(conn: BaseDBAsyncClient, template_id: int) -> None:
    """A running experiment's arms were checked against this version's prompts and its outcomes
    compare sends of one version: a new version (or archiving) waits until it is stopped."""
    running = await conn.execute_query_dict(
        "SELECT 1 FROM response_template_experiments WHERE template_id = $1 AND stopped_at IS NULL",
        [template_id],
    )
    if running:
        raise Conflict(
            "an experiment is running on this template: stop it or promote an arm first",
            field="id",
        )


async def _shortcut_free(conn: BaseDBAsyncClient, shortcut: str | None, template_id: int | None) -> None:
    if shortcut is None:
        return
    taken = await conn.execute_query_dict(
        "SELECT id FROM response_templates WHERE shortcut = $1 AND archived_at IS NULL AND id IS DISTINCT FROM $2",
        [shortcut, template_id],
    )
    if taken:
        raise Conflict(f"the shortcut {shortcut} is taken by another template", field="shortcut")


def _row_values(content: dict[str, Any]) -> list[Any]:
    return [
        content["name"],
        content["shortcut"],
        content["category"],
        orjson.dumps(content["tags"]).decode(),
        orjson.dumps(content["team_ids"]).decode(),
        content["body"],
    ]


async def _insert_version(
    conn: BaseDBAsyncClient,
    actor: Actor,
    template_id: int,
    version: int,
    content: dict[str, Any],
    note: str | None,
) -> None:
    await conn.execute_query(
        "INSERT INTO response_template_versions (template_id, version, content, note, created_by_id, created_at) "
        "VALUES ($1, $2, $3::jsonb, $4, $5, now())",
        [
            template_id,
            version,
            orjson.dumps(content).decode(),
            (note or "").strip()[:200] or None,
            actor.user_id,
        ],
    )


async def rollback_template(actor: Actor | None, template_id: int, version: int) -> dict[str, Any]:
    """A new version whose content equals `version`'s: history only grows."""
    actor = require_supervisor(actor)
    old = await get_version(actor, template_id, version)
    async with in_transaction() as conn:
        row = await new_version(conn, actor, template_id, old["content"], f"rollback to version {version}")
        await audit.record(
            conn,
            actor,
            "template.rollback",
            "ResponseTemplate",
            template_id,
            {"to": version, "version": row["version"]},
        )
    return template_view(row)


async def archive_template(actor: Actor | None, template_id: int) -> dict[str, Any]:
    """Hidden from agents and searches; its versions and the messages sent from it stay."""
    actor = require_supervisor(actor)
    async with in_transaction() as conn:
        await refuse_while_experimenting(conn, template_id)
        rows = await conn.execute_query_dict(
            f"UPDATE response_templates SET archived_at = now(), updated_at = now() WHERE id = $1 "
            f"AND archived_at IS NULL RETURNING {COLUMNS}",
            [template_id],
        )
        if not rows:
            await _get_row(template_id, actor)  # NotFound when it does not exist
            raise Conflict("the template is already archived", field="id")
        await audit.record(conn, actor, "template.archive", "ResponseTemplate", template_id, {})
    return template_view(rows[0])


# ---- reading -----------------------------------------------------------------------------------


def template_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    for key in ("tags", "team_ids"):
        if isinstance(view[key], str):
            view[key] = orjson.loads(view[key])
    return view


async def _visible_condition(actor: Actor, args: list[Any]) -> str:
    """SQL: templates the actor may see (supervisors: all; agents: everyone's and their teams')."""
    if actor.is_supervisor:
        return "TRUE"
    args.append(actor.user_id)
    return (
        "(t.team_ids = '[]'::jsonb OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.team_ids) x "
        f"JOIN team_members tm ON tm.team_id = x::int WHERE tm.user_id = ${len(args)}))"
    )


async def _get_row(template_id: int, actor: Actor) -> dict[str, Any]:
    args: list[Any] = [template_id]
    visible = await _visible_condition(actor, args)
    rows = await fetch(f"SELECT {COLUMNS} FROM response_templates t WHERE t.id = $1 AND {visible}", *args)
    if not rows:
        # Not visible reads as not existing: an agent learns nothing about other teams' templates.
        raise NotFound(f"template {template_id} does not exist", field="id")
    return rows[0]


async def get_template(actor: Actor | None, template_id: int) -> dict[str, Any]:
    user = require_user(actor)
    row = await _get_row(template_id, user)
    uses = await fetchrow(
        "SELECT uses FROM response_template_usage WHERE template_id = $1 AND user_id = $2",
        template_id,
        user.user_id,
    )
    return template_view(row) | {"my_uses": uses["uses"] if uses else 0}


async def get_version(actor: Actor | None, template_id: int, version: int | None = None) -> dict[str, Any]:
    """One version (by default the current one) with its content."""
    row = await get_template(actor, template_id)
    rows = await fetch(
        "SELECT template_id, version, content, note, created_by_id, created_at FROM response_template_versions "
        "WHERE template_id = $1 AND version = $2",
        template_id,
        row["version"] if version is None else version,
    )
    if not rows:
        raise NotFound(f"template {template_id} has no version {version}", field="version")
    return _version_view(rows[0])


async def list_versions(actor: Actor | None, template_id: int) -> list[dict[str, Any]]:
    await get_template(actor, template_id)
    rows = await fetch(
        "SELECT template_id, version, content, note, created_by_id, created_at FROM response_template_versions "
        "WHERE template_id = $1 ORDER BY version DESC",
        template_id,
    )
    return [_version_view(r) for r in rows]


def _version_view(row: dict[str, Any]) -> dict[str, Any]:
    view = dict(row)
    if isinstance(view["content"], str):
        view["content"] = orjson.loads(view["content"])
    return view


async def diff_versions(actor: Actor | None, template_id: int, a: int, b: int) -> dict[str, Any]:
    """What changed from version `a` to `b`: the fields that differ and a unified diff of the texts."""
    old, new = await get_version(actor, template_id, a), await get_version(actor, template_id, b)
    before, after = old["content"], new["content"]
    changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
    lines = difflib.unified_diff(
        _diff_text(before).splitlines(),
        _diff_text(after).splitlines(),
        f"version {a}",
        f"version {b}",
        lineterm="",
    )
    return {"from_version": a, "to_version": b, "changed_fields": changed, "unified": "\n".join(lines)}


def _diff_text(content: dict[str, Any]) -> str:
    """The content as lines a person reads: the body, then each variant's texts, then the rest."""
    parts = [content.get("body", "")]
    for platform, variant in content.get("variants", {}).items():
        for key in ("subject", "body"):
            if key in variant:
                parts.append(f"[{platform} {key}] {variant[key]}")
    rest = {k: v for k, v in content.items() if k not in ("body", "variants")}
    parts.append(orjson.dumps(rest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode())
    return "\n".join(parts)


async def list_templates(
    actor: Actor | None,
    *,
    query: str | None = None,
    category: str | None = None,
    tag: str | None = None,
    include_archived: bool = False,
    first: int = 20,
    after: str | None = None,
) -> TemplatePage:
    """Visible templates; with `query`, those whose shortcut or name starts with it (any word of the
    name) or whose text matches it (full text, Portuguese and English). Ranked by how often this
    agent used each, then prefix matches, then text relevance. Pages are small: offset cursors."""
    actor = require_user(actor)
    if not 0 < first <= MAX_PAGE:
        raise BadInput(f"page size must be between 1 and {MAX_PAGE}", field="first")
    offset = _offset(after)
    query = " ".join((query or "").split())
    if len(query) > 200:
        raise BadInput("a search is at most 200 characters", field="query")
    # $3: the query as a LIKE prefix, its wildcards escaped (typing "50%" means those characters).
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    args: list[Any] = [actor.user_id, query, escaped]
    where = [await _visible_condition(actor, args)]
    if not (include_archived and actor.is_supervisor):
        where.append("t.archived_at IS NULL")
    if category:
        args.append(category.strip().lower())
        where.append(f"t.category = ${len(args)}")
    if tag:
        args.append(orjson.dumps([tag.strip().lower()]).decode())
        where.append(f"t.tags @> ${len(args)}::jsonb")
    prefix = (
        "(COALESCE(t.shortcut LIKE ('/' || ltrim(lower($3), '/') || '%'), false) "
        "OR (' ' || t.search_key) LIKE ('% ' || pytake_fold($3) || '%'))"
    )
    if query:
        where.append(f"({prefix} OR t.search_tsv @@ {_TSQUERY})")
    rows = await fetch(
        f"SELECT {', '.join('t.' + c.strip() for c in COLUMNS.split(','))}, COALESCE(u.uses, 0) AS my_uses, "
        f"{prefix} AS prefix_hit, ts_rank_cd(t.search_tsv, {_TSQUERY}) AS text_rank "
        "FROM response_templates t "
        "LEFT JOIN response_template_usage u ON u.template_id = t.id AND u.user_id = $1 "
        f"WHERE {' AND '.join(where)} "
        f"ORDER BY my_uses DESC, prefix_hit DESC, text_rank DESC, t.name, t.id LIMIT {first + 1} OFFSET {offset}",
        *args,
    )
    page = TemplatePage(has_next=len(rows) > first)
    for i, row in enumerate(rows[:first]):
        page.items.append(
            template_view(
                {k: row[k] for k in [c.strip() for c in COLUMNS.split(",")]} | {"my_uses": row["my_uses"]}
            )
        )
        page.cursors.append(base64.urlsafe_b64encode(str(offset + i + 1).encode()).decode())
    return page


# An empty query matches nothing here, which is what the unfiltered list needs from the rank.
_TSQUERY = "(websearch_to_tsquery('portuguese', pytake_fold($2)) || websearch_to_tsquery('english', pytake_fold($2)))"


def _offset(after: str | None) -> int:
    if not after:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(after.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("cursor is not one this API returned", field="after") from exc
    if offset < 0:
        raise BadInput("cursor is not one this API returned", field="after")
    return offset


# ---- using a template ----------------------------------------------------------------------------


async def render_for_target(
    actor: Actor | None,
    template_id: int,
    conversation_id: int,
    target: ReplyTarget,
    variables: dict[str, Any] | None,
) -> Rendered:
    """The current version of the template, its variant for the target's platform, filled in for
    the conversation. Raises BadInput on missing values; limits broken are in `problems`."""
    actor = require_user(actor)
    row = await _get_row(template_id, actor)
    if row["archived_at"] is not None:
        raise Conflict("the template is archived", field="responseTemplate.id")
    content = (await get_version(actor, template_id, row["version"]))["content"]
    given = _clean_variables(variables, {p["name"] for p in content["prompts"]})
    values, language = await _values(actor, conversation_id, target)
    values["data"] = datetime.now(ZoneInfo(content["time_zone"])).date()  # today where the customer is
    context = RenderContext(
        values={**values, **given},
        locale=locale_of(language, content["locale"]),
        time_zone=content["time_zone"],
    )
    variant = content["variants"].get(target.platform, {})
    prompts = {p["name"] for p in content["prompts"]}
    # An experiment's arms replace the universal body; where the platform's variant brings its own
    # body, that body goes and the send is outside the experiment (it tests wording, not platforms).
    arm = None if "body" in variant else await running_arm(template_id, conversation_id)
    source = arm.body if arm is not None else variant.get("body", content["body"])
    text = render(source, context, prompts, "body")
    subject = render(variant["subject"], context, prompts, "subject") if "subject" in variant else None
    if "buttons" in variant:
        raw_buttons = variant["buttons"]
    elif variant and not get_connector(Platform(target.platform)).capabilities.buttons:
        raw_buttons = []  # the platform's own variant, written for a platform without buttons
    else:
        raw_buttons = content["buttons"]
    buttons = tuple(Button(id=b["id"], title=b["title"], url=b.get("url")) for b in raw_buttons)
    return Rendered(
        template_id=template_id,
        version=row["version"],
        variant=target.platform if variant else "universal",
        platform=target.platform,
        text=text,
        subject=subject,
        buttons=buttons,
        problems=tuple(limit_problems(Platform(target.platform), text, buttons)),
        experiment_id=arm.experiment_id if arm is not None else None,
        arm=arm.arm if arm is not None else None,
    )


async def preview(
    actor: Actor | None,
    template_id: int,
    conversation_id: int,
    channel_id: int | None,
    variables: dict[str, Any] | None,
) -> tuple[Rendered, ReplyTarget]:
    """What sendMessage would send with this template now, through the same target it would pick."""
    await check_conversation(actor, conversation_id)  # one the actor may see (it shows the customer)
    target = await resolve_target(conversation_id, channel_id)
    return await render_for_target(actor, template_id, conversation_id, target, variables), target


def _clean_variables(variables: dict[str, Any] | None, prompts: set[str]) -> dict[str, str]:
    """Values for the template's prompts, as text. Anything else is a mistake worth saying."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise BadInput("variables are an object of prompt name → value", field="responseTemplate.variables")
    unknown = sorted(set(variables) - prompts)
    if unknown:
        raise BadInput(
            f"the template has no prompt named {', '.join(unknown)}",
            field="responseTemplate.variables",
            variables=unknown,
        )
    cleaned = {}
    for name, value in variables.items():
        if value is None:
            continue
        if not isinstance(value, str | int | float) or isinstance(value, bool) or len(str(value)) > 1000:
            raise BadInput(
                f"the value of {name} is text or a number (at most 1000 characters)",
                field="responseTemplate.variables",
            )
        cleaned[name] = str(value)
    return cleaned


async def _values(
    actor: Actor, conversation_id: int, target: ReplyTarget
) -> tuple[dict[str, Any], str | None]:
    rows = await fetch(
        "SELECT c.id, c.status, c.priority, c.created_at, c.language, cu.name AS customer_name, cu.phone, cu.email "
        "FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1",
        conversation_id,
    )
    if not rows:
        raise NotFound(f"conversation {conversation_id} does not exist", field="conversationId")
    c = rows[0]
    agent = (await fetch("SELECT name, email FROM users WHERE id = $1", actor.user_id))[0]
    channel = (await fetch("SELECT name, config FROM channels WHERE id = $1", target.channel_id))[0]
    config = (
        channel["config"] if isinstance(channel["config"], dict) else orjson.loads(channel["config"] or "{}")
    )
    company = config.get("display_name") or config.get("sender_name") or channel["name"]
    values = {
        "customer": {
            "name": c["customer_name"],
            "first_name": _first(c["customer_name"]),
            "phone": c["phone"],
            "email": c["email"],
        },
        "agent": {"name": agent["name"], "first_name": _first(agent["name"]), "email": agent["email"]},
        "conversation": {
            "id": str(c["id"]),  # an id, not a number to format with thousands separators
            "status": c["status"],
            "priority": c["priority"],
            "created_at": c["created_at"],
            "language": c["language"],
        },
        "channel": {"name": channel["name"], "platform": target.platform},
        "nome": c["customer_name"],
        "empresa": company,
    }
    return values, c["language"]


def _first(name: str | None) -> str | None:
    return name.split()[0] if name and name.split() else None


def limit_problems(platform: Platform, text: str, buttons: tuple[Button, ...]) -> list[str]:
    """What the platform would refuse, from its connector's Capabilities and text limit."""
    connector = get_connector(platform)
    problems = []
    if len(text) > connector.max_text_length:
        problems.append(
            f"the text is {len(text)} characters long; {platform.value} accepts at most {connector.max_text_length}"
        )
    if buttons and not connector.capabilities.buttons:
        problems.append(
            f"{platform.value} has no buttons: give the template a {platform.value} variant without them"
        )
    return problems


async def record_use(conn: BaseDBAsyncClient, user_id: int | None, template_id: int) -> None:
    """Count a send from the template, in the send's own transaction (a retried send is not counted).
    A flow's send (no user) counts for the template, not for anyone's own ranking."""
    await conn.execute_query(
        "UPDATE response_templates SET usage_count = usage_count + 1 WHERE id = $1", [template_id]
    )
    if user_id is None:
        return
    await conn.execute_query(
        "INSERT INTO response_template_usage (user_id, template_id, uses, last_used_at) VALUES ($1, $2, 1, now()) "
        "ON CONFLICT (user_id, template_id) DO UPDATE SET uses = response_template_usage.uses + 1, last_used_at = now()",
        [user_id, template_id],
    )


def require_send_allowed(rendered: Rendered) -> None:
    if rendered.problems:
        raise BadInput(rendered.problems[0], field="responseTemplate", platform=rendered.platform)
