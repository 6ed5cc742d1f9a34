"""The Grafana board and the Prometheus configuration agree with the metrics the code exports.

Every expression on the board names metrics (and labels) that some
``metrics.py`` of the hub defines, and every metric the hub defines is on
the board; Prometheus scrapes the ports the settings use. So neither can
drift from the code unnoticed.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from typing import Any

import yaml
from prometheus_client.metrics import MetricWrapperBase

from hub.metrics import PREFIX
from hub.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
BOARD = DEPLOY / "grafana" / "dashboards" / "lastmile.json"
#: Series Prometheus makes itself, which the board may use too.
PROMETHEUS_OWN = {"up": {"job", "instance"}}
#: Labels every scraped series has, or that a histogram's buckets have.
ALWAYS = {"job", "instance", "le"}
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


def _metric_modules() -> list[str]:
    """Every ``<package>/metrics.py`` of the hub."""
    return sorted(f"{path.parent.name}.metrics" for path in PROJECT_ROOT.glob("*/metrics.py"))


def exported() -> dict[str, set[str]]:
    """Each series name the hub's metrics expose, with its labels."""
    names: dict[str, set[str]] = {}
    for module_name in _metric_modules():
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if not isinstance(value, MetricWrapperBase):
                continue
            [family] = value.describe()
            # prometheus_client has no public accessor for a metric's label names.
            labels = set(value._labelnames)
            for suffix in SUFFIXES[family.type]:
                names[family.name + suffix] = labels
    return names


def _expressions(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def _label_names(expr: str) -> set[str]:
    """Labels an expression groups by or matches on."""
    found: set[str] = set()
    for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        found |= {name.strip() for name in group.split(",") if name.strip()}
    for matchers in re.findall(r"\{([^}]*)\}", expr):
        found |= set(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", matchers))
    return found


def _board() -> dict[str, Any]:
    board: dict[str, Any] = json.loads(BOARD.read_text())
    return board


def test_the_metric_modules_are_found() -> None:
    assert {"api.metrics", "ingest.metrics", "alerts.metrics"} <= set(_metric_modules())
    assert "lastmile_http_requests_total" in exported()


def test_every_expression_on_the_board_names_exported_metrics_and_labels() -> None:
    names = exported()
    known = {**names, **PROMETHEUS_OWN}
    for title, expr in _expressions(_board()):
        # Strip strings (label values) and the range selectors' durations.
        bare = re.sub(r'"[^"]*"|\[[^\]]*\]', "", expr)
        words = set(re.findall(r"[a-zA-Z_:][\w:]*", bare))
        used = {w for w in words if w.startswith(PREFIX) or w in PROMETHEUS_OWN}
        assert used, f"{title}: {expr} names no metric"
        unknown = {w for w in used if w not in known}
        assert not unknown, f"{title}: {expr} names {unknown}, which no metrics.py exports"
        allowed = ALWAYS.union(*(known[w] for w in used))
        labels = _label_names(bare) - PROMQL_WORDS
        assert labels <= allowed, f"{title}: {expr} uses labels {labels - allowed}"


def test_every_exported_metric_is_on_the_board() -> None:
    on_board = " ".join(expr for _, expr in _expressions(_board()))
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in exported()}
    missing = {family for family in families if family not in on_board}
    assert not missing, f"not on the board: {sorted(missing)}"


def test_the_board_uses_the_provisioned_data_source() -> None:
    datasources = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    [source] = datasources["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    board = _board()
    for panel in board["panels"]:
        if panel["type"] == "row":
            continue
        for where in (panel, *panel["targets"]):
            assert where["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel
    providers = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "lastmile.yml").read_text()
    )
    [provider] = providers["providers"]
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


def test_prometheus_scrapes_the_ports_the_settings_use() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets == {
        "lastmile-api": [f"hub:{_default('api_port')}"],
        "lastmile-ingest": [f"hub:{_default('ingest_metrics_port')}"],
        "lastmile-notify": [f"hub:{_default('notify_metrics_port')}"],
    }
    api_job = next(j for j in config["scrape_configs"] if j["job_name"] == "lastmile-api")
    assert api_job["metrics_path"] == "/metrics"


def test_compose_runs_pinned_prometheus_and_grafana_beside_a_reachable_hub() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name, image in (("prometheus", "prom/prometheus:"), ("grafana", "grafana/grafana:")):
        tag = services[name]["image"]
        assert tag.startswith(image), tag
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag.split(":", 1)[1]), f"{tag} is not pinned"
    assert (
        "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in services["prometheus"]["volumes"]
    )
    # Prometheus reaches the worker's and the notifier's ports across the compose network.
    assert services["hub"]["environment"]["LASTMILE_METRICS_HOST"] == "0.0.0.0"  # noqa: S104
    assert _default("metrics_host") == "127.0.0.1"  # loopback everywhere else


def test_every_exported_metric_is_documented() -> None:
    text = (PROJECT_ROOT / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"`(lastmile_[a-z0-9_]+)`", text))
    families = {
        re.sub(r"_(bucket|sum|count)$", "", name) for name in exported() if name.startswith(PREFIX)
    }
    assert families <= documented, f"not in docs/metrics.md: {sorted(families - documented)}"
