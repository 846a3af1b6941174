"""The Dockerfile: hadolint finds nothing, and what it runs is a real `pytake` command. The image
is not built here (base images cannot be pulled on these machines), so these checks keep it right.
The helpers below are shared with the other deploy tests."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import build_parser, cmd_gateway, cmd_migrate, cmd_serve, cmd_worker
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
APP_SOURCES = ("asgi.py", "core", "connectors", "models", "resolvers", "schema", "ingress", "jobs", "modules")


def pytake_command(argv: list[str]) -> argparse.Namespace:
    """`argv` (after `pytake`) parsed by the real CLI; fails the test where argparse would exit."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse's way of refusing
        raise AssertionError(f"`pytake {' '.join(argv)}` is not a valid command") from exc


def settings_read_by_the_code() -> set[str]:
    """Every environment variable the app reads: os.environ / getenv / _env_int / _env_choice with a literal, or
    a module constant named `*_VAR` (core/tracing.py's)."""
    read = re.compile(
        r"""(?:environ\.get|environ\[|getenv|_env_int|_env_choice)\(?\s*["']([A-Z][A-Z0-9_]+)["']"""
    )
    constant = re.compile(r"""^[A-Z_]+_VAR\s*=\s*["']([A-Z][A-Z0-9_]+)["']""", re.MULTILINE)
    names: set[str] = set()
    for source in APP_SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else path.rglob("*.py"):
            text = file.read_text()
            names.update(read.findall(text), constant.findall(text))
    return names


def documented_in_readme(name: str) -> bool:
    return f"`{name}`" in (ROOT / "README.md").read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run([HADOLINT, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_instruction(tmp_path: Path) -> None:
    """The lint is live: the same file with a classic mistake (an unpinned `latest` base) fails."""
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        DOCKERFILE.read_text().replace("FROM ${PYTHON_IMAGE} AS runtime", "FROM python:latest AS runtime")
    )
    result = subprocess.run([HADOLINT, "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_the_image_runs_a_pytake_command_and_serves_by_default() -> None:
    steps = instructions(DOCKERFILE.read_text())
    runtime = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    entrypoint = [json.loads(a) for k, a in runtime if k == "ENTRYPOINT"]
    cmd = [json.loads(a) for k, a in runtime if k == "CMD"]
    assert entrypoint == [["pytake"]] and len(cmd) == 1
    assert pytake_command(cmd[0]).fn is cmd_serve
    # The other process types are the same image with another command (compose, Kubernetes).
    for argv, fn in ((["worker"], cmd_worker), (["gateway"], cmd_gateway), (["migrate"], cmd_migrate)):
        assert pytake_command(argv).fn is fn
    with pytest.raises(AssertionError):
        pytake_command(["serve", "--wrokers", "2"])


def test_the_runtime_stage_is_slim_unprivileged_and_checks_healthz() -> None:
    text = DOCKERFILE.read_text()
    steps = instructions(text)
    froms = [a for k, a in steps if k == "FROM"]
    assert len(froms) == 3 and any(a.endswith("AS frontend") for a in froms)
    assert "node:" in text and "slim" in text  # a Node stage builds the web app; a slim Python runs it
    runtime = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    users = [a for k, a in runtime if k == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    health = [a for k, a in runtime if k == "HEALTHCHECK"]
    assert len(health) == 1 and "/healthz" in health[0]
    assert any(k == "COPY" and "--from=frontend" in a and "frontend/dist" in a for k, a in runtime)
    from asgi import app

    paths = {getattr(route, "path", None) for route in app.routes}
    assert {"/healthz", "/readyz", "/metrics"} <= paths


def test_the_image_gets_every_package_of_the_app() -> None:
    """A package added to the app but not copied into the image would fail only in production."""
    copied = " ".join(a for k, a in instructions(DOCKERFILE.read_text()) if k == "COPY")
    for source in (*APP_SOURCES, "migrations", "aerich.ini", "pyproject.toml"):
        assert re.search(rf"(^|\s){re.escape(source)}/?(\s|$)", copied), f"{source} is not copied"
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - {"tests", "bench"}
    assert packages <= set(APP_SOURCES), f"packages not copied into the image: {packages - set(APP_SOURCES)}"
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = {line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")}
    assert not ignored & {*APP_SOURCES, "migrations", "frontend"}


async def test_the_healthcheck_command_passes_on_a_live_api_and_fails_on_a_dead_one(server: str) -> None:
    (health,) = [a for k, a in instructions(DOCKERFILE.read_text()) if k == "HEALTHCHECK"]
    command = json.loads(health.split(" CMD ", 1)[1])
    assert command[0] == "python"
    live_port = server.rsplit(":", 1)[1]
    for port, healthy in ((live_port, True), (str(free_port()), False)):
        # Not subprocess.run: the session's API answers from this event loop, which must keep running.
        check = await asyncio.create_subprocess_exec(
            sys.executable, *command[1:], env={**os.environ, "PORT": port}, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await asyncio.wait_for(check.communicate(), 30)
        assert (check.returncode == 0) is healthy, (port, stderr[-500:])
