"""What an approved WhatsApp template asks for, and whether a send gives exactly that.

Meta checks a template send only after it is queued and answers 132000 ("number of parameters
does not match") to a worker, so the agent would see a failed message minutes later. Here the
catalogue's components say which parameters each part takes ({{1}}… per header text, body and
URL button, one media object for a media header, a code for a copy-code button) and a send that
gives a missing, extra or mistyped parameter is refused before anything is stored, naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from resolvers.errors import BadInput

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_MEDIA_HEADERS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document", "LOCATION": "location"}
FIELD = "template.components"


@dataclass(frozen=True)
class Slot:
    """The parameters one part of a template takes."""

    part: str  # "header", "body" or "button 0", "button 1", ...
    kind: str  # text, image, video, document, location, coupon_code, payload
    names: tuple[str, ...]  # placeholders ("1", "2" or named ones); one unnamed entry for media
    optional: bool = False  # a quick reply's payload may be left out


def _names(text: Any) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(text if isinstance(text, str) else ""):
        seen.setdefault(match.group(1))
    return tuple(seen)


def slots(components: list[dict[str, Any]]) -> list[Slot]:
    """Every part of the template that takes parameters, in the catalogue's order."""
    result: list[Slot] = []
    for component in components:
        kind = str(component.get("type") or "").upper()
        if kind == "HEADER":
            media = _MEDIA_HEADERS.get(str(component.get("format") or "TEXT").upper())
            if media is not None:
                result.append(Slot("header", media, ("media",)))
            elif names := _names(component.get("text")):
                result.append(Slot("header", "text", names))
        elif kind == "BODY" and (names := _names(component.get("text"))):
            result.append(Slot("body", "text", names))
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                result.extend(_button_slot(index, button) if isinstance(button, dict) else [])
    return result


def _button_slot(index: int, button: dict[str, Any]) -> list[Slot]:
    kind = str(button.get("type") or "").upper()
    part = f"button {index}"
    if kind == "URL" and (names := _names(button.get("url"))):
        return [Slot(part, "text", names)]
    if kind == "COPY_CODE":
        return [Slot(part, "coupon_code", ("code",))]
    if kind == "OTP":
        return [Slot(part, "text", ("code",))]
    if kind == "QUICK_REPLY":
        return [Slot(part, "payload", ("payload",), optional=True)]
    return []


def _given_parts(given: Any) -> dict[str, list[Any]]:
    """The send's components by part, as Meta's send API takes them."""
    if given is None:
        return {}
    if not isinstance(given, list) or not all(isinstance(c, dict) for c in given):
        raise BadInput("template components must be a list of objects", field=FIELD)
    parts: dict[str, list[Any]] = {}
    for component in given:
        kind = str(component.get("type") or "").lower()
        if kind == "button":
            index = component.get("index")
            if not (isinstance(index, int) or (isinstance(index, str) and index.isdigit())):
                raise BadInput("a button component needs its index (0, 1, ...)", field=FIELD)
            part = f"button {int(index)}"
        elif kind in ("header", "body"):
            part = kind
        else:
            raise BadInput(f"unknown template component type {component.get('type')!r}", field=FIELD)
        if part in parts:
            raise BadInput(f"the template's {part} is given twice", field=FIELD)
        parameters = component.get("parameters", [])
        if not isinstance(parameters, list) or not all(isinstance(p, dict) for p in parameters):
            raise BadInput(f"the {part}'s parameters must be a list of objects", field=FIELD)
        parts[part] = parameters
    return parts


def check(components: list[dict[str, Any]], parameter_format: str, given: Any) -> dict[str, list[str]]:
    """Refuse (BadInput naming the parameter) unless `given` fills exactly what the template asks.
    Returns the text values by part, for the stored copy of the message."""
    parts = _given_parts(given)
    values: dict[str, list[str]] = {}
    for slot in slots(components):
        parameters = parts.pop(slot.part, None)
        if parameters is None or (slot.optional and not parameters):
            if slot.optional:
                continue
            wanted = ", ".join(_label(n, slot) for n in slot.names)
            raise BadInput(
                f"the template's {slot.part} needs {len(slot.names)} parameter(s) ({wanted}); none given",
                field=FIELD,
                parameter=f"{slot.part} {_label(slot.names[0], slot)}",
            )
        values[slot.part] = _check_slot(slot, parameters, parameter_format)
    for part in parts:  # what the template has no place for
        raise BadInput(
            f"the template's {part} takes no parameters; remove that component",
            field=FIELD,
            parameter=part,
        )
    return values


def _label(name: str, slot: Slot) -> str:
    return f"{{{{{name}}}}}" if slot.kind == "text" else slot.kind


def _check_slot(slot: Slot, parameters: list[dict[str, Any]], parameter_format: str) -> list[str]:
    named = parameter_format == "NAMED" and slot.kind == "text" and slot.part in ("header", "body")
    if named:
        given_names = [p.get("parameter_name") for p in parameters]
        missing = [n for n in slot.names if n not in given_names]
        extra = [n for n in given_names if n not in slot.names]
        if missing:
            name = _label(missing[0], slot)
            raise BadInput(
                f"the template's {slot.part} is missing parameter {name}",
                field=FIELD,
                parameter=f"{slot.part} {name}",
            )
        if extra or len(given_names) != len(set(given_names)):
            name = extra[0] if extra else "a repeated name"
            raise BadInput(
                f"the template's {slot.part} has no parameter {name}",
                field=FIELD,
                parameter=f"{slot.part} {name}",
            )
        ordered = sorted(parameters, key=lambda p: slot.names.index(p["parameter_name"]))
    else:
        if len(parameters) < len(slot.names):
            name = _label(slot.names[len(parameters)], slot)
            raise BadInput(
                f"the template's {slot.part} takes {len(slot.names)} parameter(s); {name} is missing",
                field=FIELD,
                parameter=f"{slot.part} {name}",
            )
        if len(parameters) > len(slot.names):
            raise BadInput(
                f"the template's {slot.part} takes {len(slot.names)} parameter(s); "
                f"parameter {len(slot.names) + 1} is extra",
                field=FIELD,
                parameter=f"{slot.part} {len(slot.names) + 1}",
            )
        ordered = parameters
    return [_value(slot, p, name) for p, name in zip(ordered, slot.names, strict=True)]


def _value(slot: Slot, parameter: dict[str, Any], name: str) -> str:
    where = f"{slot.part} {_label(name, slot)}"
    kind = parameter.get("type")
    if kind != slot.kind:
        raise BadInput(
            f"the template's {where} takes a parameter of type {slot.kind}; got {kind!r}",
            field=FIELD,
            parameter=where,
        )
    if slot.kind in ("text", "coupon_code", "payload"):
        value = parameter.get(slot.kind if slot.kind != "text" else "text")
        if not isinstance(value, str) or not value.strip():
            raise BadInput(
                f"the template's {where} needs a non-empty {slot.kind}", field=FIELD, parameter=where
            )
        return value
    media = parameter.get(slot.kind)
    if slot.kind == "location":
        if not isinstance(media, dict) or "latitude" not in media or "longitude" not in media:
            raise BadInput(
                f"the template's {where} needs a latitude and longitude", field=FIELD, parameter=where
            )
        return ""
    link = media.get("link") if isinstance(media, dict) else None
    if not (isinstance(link, str) and link.startswith(("https://", "http://"))) and not (
        isinstance(media, dict) and isinstance(media.get("id"), str) and media["id"]
    ):
        raise BadInput(
            f"the template's {where} needs an http(s) link or a media id", field=FIELD, parameter=where
        )
    return ""


def rendered_text(components: list[dict[str, Any]], values: dict[str, list[str]]) -> str:
    """The header and body as the customer reads them: what the timeline shows for the message."""
    lines = []
    for component in components:
        kind = str(component.get("type") or "").upper()
        part = {"HEADER": "header", "BODY": "body", "FOOTER": "footer"}.get(kind)
        text = component.get("text")
        if part is None or not isinstance(text, str):
            continue
        filled = dict(zip(_names(text), values.get(part, []), strict=False))
        lines.append(PLACEHOLDER.sub(lambda m, filled=filled: filled.get(m.group(1), m.group(0)), text))
    return "\n\n".join(lines)
