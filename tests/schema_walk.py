"""The live schema as the tests walk it (introspection over HTTP), so that a field or type added
tomorrow is covered by the same tests without anyone listing it."""

from __future__ import annotations

from typing import Any

from tests.helpers import gql

_TYPE = "kind name ofType { kind name ofType { kind name ofType { kind name } } }"
INTROSPECTION = f"""{{ __schema {{
  queryType {{ name }} mutationType {{ name }} subscriptionType {{ name }}
  types {{ kind name possibleTypes {{ name }} enumValues {{ name }}
    inputFields {{ name defaultValue type {{ {_TYPE} }} }}
    fields {{ name args {{ name defaultValue type {{ {_TYPE} }} }} type {{ {_TYPE} }} }} }} }} }}"""


class Schema:
    def __init__(self, data: dict[str, Any]):
        self.raw = data
        self.types = {t["name"]: t for t in data["types"]}

    @classmethod
    async def load(cls, server: str) -> Schema:
        body = await gql(server, INTROSPECTION)
        return cls(body["data"]["__schema"])

    def root(self, kind: str) -> list[dict[str, Any]]:
        return self.types[self.raw[f"{kind}Type"]["name"]]["fields"]

    def node_types(self) -> list[str]:
        return sorted(t["name"] for t in self.types["Node"]["possibleTypes"])

    def holds_id(self, type_ref: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
        named = innermost(type_ref)
        if named["name"] == "ID":
            return True
        if named["kind"] != "INPUT_OBJECT" or named["name"] in seen:
            return False
        fields = self.types[named["name"]]["inputFields"]
        return any(self.holds_id(f["type"], seen | {named["name"]}) for f in fields)

    def value(self, type_ref: dict[str, Any], name: str, make_id: Any) -> Any:
        """A value for a required or id-bearing argument: ids from make_id(name), the rest plain."""
        if type_ref["kind"] == "NON_NULL":
            return self.value(type_ref["ofType"], name, make_id)
        if type_ref["kind"] == "LIST":
            return [self.value(type_ref["ofType"], name, make_id)]
        kind, type_name = type_ref["kind"], type_ref["name"]
        if kind == "ENUM":
            return self.types[type_name]["enumValues"][0]["name"]
        if kind == "INPUT_OBJECT":
            return {
                f["name"]: self.value(f["type"], f["name"], make_id)
                for f in self.types[type_name]["inputFields"]
                if self.wanted(f)
            }
        return {
            "ID": lambda: make_id(name),
            "String": lambda: "x",
            "Int": lambda: 1,
            "Float": lambda: 1.0,
            "Boolean": lambda: False,
            "DateTime": lambda: "2030-01-01T00:00:00+00:00",
            "Date": lambda: "2030-01-01",
            "JSON": lambda: {},
        }[type_name]()

    def wanted(self, arg: dict[str, Any]) -> bool:
        required = arg["type"]["kind"] == "NON_NULL" and arg["defaultValue"] is None
        return required or self.holds_id(arg["type"])

    def selection(self, type_ref: dict[str, Any]) -> str:
        return " { __typename }" if innermost(type_ref)["kind"] in ("OBJECT", "INTERFACE", "UNION") else ""


def innermost(type_ref: dict[str, Any]) -> dict[str, Any]:
    while type_ref.get("ofType"):
        type_ref = type_ref["ofType"]
    return type_ref


def type_string(type_ref: dict[str, Any]) -> str:
    if type_ref["kind"] == "NON_NULL":
        return type_string(type_ref["ofType"]) + "!"
    if type_ref["kind"] == "LIST":
        return f"[{type_string(type_ref['ofType'])}]"
    return type_ref["name"]


def operation(schema: Schema, kind: str, field: dict[str, Any], make_id: Any) -> tuple[str, dict[str, Any]]:
    """A document calling `field` with every required or id-bearing argument as a variable."""
    args = [a for a in field["args"] if schema.wanted(a)]
    variables = {a["name"]: schema.value(a["type"], a["name"], make_id) for a in args}
    declared = ", ".join(f"${a['name']}: {type_string(a['type'])}" for a in args)
    passed = ", ".join(f"{a['name']}: ${a['name']}" for a in args)
    head = f"{kind}({declared})" if args else kind
    call = f"{field['name']}({passed})" if args else field["name"]
    return f"{head} {{ {call}{schema.selection(field['type'])} }}", variables
