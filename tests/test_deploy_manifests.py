"""deploy/compose.yaml and deploy/k8s/: every process type present, each running a real `pytake`
command, reading only settings the code reads and the README documents; the Kubernetes objects
valid against the Kubernetes schemas (kubernetes-validate, strict: an unknown field fails)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from core.cli import cmd_gateway, cmd_migrate, cmd_serve, cmd_worker
from tests.test_deploy_docker import documented_in_readme, pytake_command, settings_read_by_the_code

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "deploy" / "compose.yaml"
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"  # the oldest still supported upstream when this was written
SECRET_NAME = "pytake-secrets"  # created by the operator (README "Deploying"), never checked in
CHECK_JSONSCHEMA = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
SECRET_KEYS = {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ENCRYPTION_KEYS"}


def check_settings(names: set[str], where: str) -> None:
    known = settings_read_by_the_code()
    assert names <= known, f"{where} sets what the code never reads: {sorted(names - known)}"
    undocumented = sorted(n for n in names if not documented_in_readme(n))
    assert not undocumented, f"{where} sets settings the README does not document: {undocumented}"


# ---- compose -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHECK_JSONSCHEMA, "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
    )


def test_compose_follows_the_compose_specification(tmp_path: Path) -> None:
    result = check_compose_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    misspelt = tmp_path / "compose.yaml"  # the check is live: an unknown key fails it
    misspelt.write_text(COMPOSE.read_text().replace("stop_grace_period:", "stop_grace_priod:"))
    assert check_compose_schema(misspelt).returncode != 0


def test_compose_runs_every_process_type(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "api", "worker", "gateway"} <= set(services)
    expected = {"migrate": cmd_migrate, "api": cmd_serve, "worker": cmd_worker, "gateway": cmd_gateway}
    for name, fn in expected.items():
        assert pytake_command(services[name]["command"]).fn is fn, name
    assert services["api"]["deploy"]["replicas"] == 2  # two API processes
    assert services["worker"]["deploy"]["replicas"] >= 1
    assert services["postgres"]["image"].startswith("postgres:") and services["redis"]["image"].startswith(
        "redis:"
    )


def test_compose_migrates_once_before_anything_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker", "gateway"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_compose_settings_are_real_and_documented(compose: dict[str, Any]) -> None:
    for name in ("migrate", "api", "worker", "gateway"):
        env = compose["services"][name]["environment"]
        assert {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ENCRYPTION_KEYS"} <= set(env), name
        check_settings(set(env), f"compose service {name}")
    # Secrets are required from the operator, never defaulted in the file.
    api = compose["services"]["api"]["environment"]
    assert api["JWT_SECRET"].startswith("${JWT_SECRET:?") and api["ENCRYPTION_KEYS"].startswith(
        "${ENCRYPTION_KEYS:?"
    )


def test_compose_stops_later_than_the_processes_own_timeouts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["api"]["environment"]
    for name, timeout in (("api", "SHUTDOWN_TIMEOUT"), ("worker", "WORKER_STOP_TIMEOUT")):
        grace = float(services[name]["stop_grace_period"].rstrip("s"))
        assert grace > float(env[timeout]), f"{name} would be killed before it drained"


def test_the_settings_check_fails_on_an_unknown_setting() -> None:
    with pytest.raises(AssertionError, match="PYTAKE_WORKERZ"):
        check_settings({"DATABASE_URL", "PYTAKE_WORKERZ"}, "a typo")


# ---- Kubernetes ----------------------------------------------------------------------------------


def k8s_objects() -> list[dict[str, Any]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        found.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return found


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in k8s_objects() if o["kind"] == kind}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def test_every_manifest_is_valid_kubernetes() -> None:
    objects = k8s_objects()
    assert len(objects) >= 9
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_validation_catches_a_misspelt_field() -> None:
    api = by_kind("Deployment")["pytake-api"]
    api["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(api, KUBERNETES_VERSION, strict=True)


def test_each_process_type_has_its_workload_and_command() -> None:
    deployments = by_kind("Deployment")
    expected = {"pytake-api": cmd_serve, "pytake-worker": cmd_worker, "pytake-gateway": cmd_gateway}
    for name, fn in expected.items():
        (container,) = pod_spec(deployments[name])["containers"]
        assert pytake_command(container["args"]).fn is fn, name
    (job,) = by_kind("Job").values()
    (container,) = pod_spec(job)["containers"]
    assert pytake_command(container["args"]).fn is cmd_migrate
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_the_api_probes_scaling_and_disruption_budget() -> None:
    api = by_kind("Deployment")["pytake-api"]
    (container,) = pod_spec(api)["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    assert {"name": "PORT", "value": str(port)} in container["env"]
    labels = api["spec"]["selector"]["matchLabels"]
    assert api["spec"]["template"]["metadata"]["labels"].items() >= labels.items()
    hpa = by_kind("HorizontalPodAutoscaler")["pytake-api"]
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "pytake-api",
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    budgets = by_kind("PodDisruptionBudget")
    assert budgets["pytake-api"]["spec"]["selector"]["matchLabels"] == labels
    assert budgets["pytake-api"]["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_pods_run_unprivileged_and_outlive_their_own_stop() -> None:
    config = by_kind("ConfigMap")["pytake-config"]["data"]
    stop_of = {"pytake-api": "SHUTDOWN_TIMEOUT", "pytake-worker": "WORKER_STOP_TIMEOUT"}
    for name, obj in {**by_kind("Deployment"), **by_kind("Job")}.items():
        spec = pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] != 0
        if name in stop_of:
            pre_stop = 5 if name == "pytake-api" else 0
            assert spec["terminationGracePeriodSeconds"] > float(config[stop_of[name]]) + pre_stop, name


def test_config_and_secret_references_resolve_to_real_settings() -> None:
    configmaps = by_kind("ConfigMap")
    assert SECRET_NAME not in by_kind("Secret")  # secrets are the operator's, not the repository's
    check_settings(set(configmaps["pytake-config"]["data"]), "the ConfigMap")
    check_settings(SECRET_KEYS, "the Secret")
    assert SECRET_NAME in (ROOT / "README.md").read_text()
    for obj in [*by_kind("Deployment").values(), *by_kind("Job").values()]:
        for container in pod_spec(obj)["containers"]:
            refs = container["envFrom"]
            assert {r["configMapRef"]["name"] for r in refs if "configMapRef" in r} <= set(configmaps)
            assert {r["secretRef"]["name"] for r in refs if "secretRef" in r} == {SECRET_NAME}
            check_settings({e["name"] for e in container.get("env", [])}, obj["metadata"]["name"])
