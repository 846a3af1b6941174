"""The web app's types are generated from frontend/schema.graphql (graphql-codegen); this fails when
the checked-in SDL differs from the server's, so front and back never drift. After a schema change
run `make sdl` (which is `pytake sdl -o frontend/schema.graphql`) and rebuild the web app."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

from graphql import build_schema as parse_sdl

from core.cli import build_parser, schema_sdl

CHECKED_IN = Path(__file__).resolve().parents[1] / "frontend" / "schema.graphql"


def test_checked_in_sdl_is_the_servers():
    served = schema_sdl()
    checked_in = CHECKED_IN.read_text(encoding="utf-8")
    if checked_in != served:
        diff = "".join(
            list(
                difflib.unified_diff(
                    checked_in.splitlines(keepends=True),
                    served.splitlines(keepends=True),
                    "frontend/schema.graphql",
                    "pytake sdl",
                )
            )[:60]
        )
        raise AssertionError(
            f"frontend/schema.graphql is stale: run `make sdl`, then rebuild the web app\n{diff}"
        )


def test_sdl_is_a_complete_schema():
    schema = parse_sdl(schema_sdl())  # parses and builds: every type it names is defined
    assert {"Query", "Mutation", "Subscription", "Conversation", "Message"} <= set(schema.type_map)
    assert "inboxEvents" in schema.subscription_type.fields  # type: ignore[union-attr]
    assert "sendMessage" in schema.mutation_type.fields  # type: ignore[union-attr]


def test_pytake_sdl_command_prints_it(tmp_path: Path):
    assert build_parser().parse_args(["sdl"]).fn.__name__ == "cmd_sdl"
    out = tmp_path / "schema.graphql"
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "sdl", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == schema_sdl()
