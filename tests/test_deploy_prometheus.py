"""deploy/prometheus/: the scrape config and the alerting rules parse, and every PyTake metric an
alert uses is one the processes export (promtool is not installed here; this is the part of its
check that catches a renamed metric)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import core.metrics  # noqa: F401  (registers the metrics the API and the workers export)

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "deploy" / "prometheus"
SAMPLE_SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")
PROMQL_WORDS = {
    "sum", "rate", "irate", "increase", "by", "without", "and", "or", "unless", "on", "ignoring",
    "histogram_quantile", "clamp_min", "clamp_max", "avg", "max", "min", "count", "absent", "le",
    "bool", "offset", "group_left", "group_right", "time", "vector", "delta", "deriv",
}  # fmt: skip


def exported_samples() -> set[str]:
    """Sample names of every metric declared in core/metrics.py and jobs/ (the workers' own)."""
    names = {sample for metric in REGISTRY.collect() for sample in _samples(metric.name, metric.type)}
    declared = re.compile(r"""(?:Counter|Gauge|Histogram|Summary)\(\s*["']([a-z_:][a-z0-9_:]*)["']""")
    for file in (ROOT / "jobs").rglob("*.py"):
        for name in declared.findall(file.read_text()):
            names.update(_samples(name.removesuffix("_total"), "unknown"))
    return names


def _samples(name: str, kind: str) -> set[str]:
    return {name} | {name + suffix for suffix in SAMPLE_SUFFIXES}


def metrics_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers outside strings, braces and brackets
    that are not PromQL's own words or label names."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", expr)
    words = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", expr))
    return {w for w in words if w not in PROMQL_WORDS and not re.fullmatch(r"\d.*|e\d+", w)}


def rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_the_scrape_config_parses_and_loads_the_rules() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert "alerts.yml" in config["rule_files"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert "pytake" in jobs
    relabel = jobs["pytake"]["relabel_configs"]
    # What deploy/k8s puts on the pods is what the scrape keeps.
    api = yaml.safe_load_all((ROOT / "deploy" / "k8s" / "api.yaml").read_text())
    annotations = next(d for d in api if d["kind"] == "Deployment")["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert annotations["prometheus.io/scrape"] == "true"
    keeps = {r["source_labels"][0]: r["regex"] for r in relabel if r.get("action") == "keep"}
    assert keeps["__meta_kubernetes_pod_annotation_prometheus_io_scrape"] == "true"
    assert keeps["__meta_kubernetes_pod_label_app_kubernetes_io_name"] == "pytake"


def test_every_alert_is_well_formed() -> None:
    found = rules()
    assert len(found) >= 5
    for rule in found:
        assert (
            rule["alert"] and rule["expr"].strip() and rule["labels"]["severity"] in ("warning", "critical")
        )
        assert rule["annotations"]["summary"]
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]


def test_every_metric_an_alert_uses_is_exported() -> None:
    exported = exported_samples() | {"up"}  # `up` is Prometheus' own, per scrape target
    for rule in rules():
        used = metrics_in(rule["expr"])
        assert used, rule["alert"]
        assert used <= exported, f"{rule['alert']} uses metrics nobody exports: {sorted(used - exported)}"


def test_a_renamed_metric_would_be_caught() -> None:
    used = metrics_in('sum(rate(pytake_http_requestz_total{status=~"5.."}[5m])) by (route) > 0.1')
    assert used == {"pytake_http_requestz_total"}
    with pytest.raises(AssertionError):
        assert used <= exported_samples()
