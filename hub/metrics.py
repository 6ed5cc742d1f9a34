"""Prometheus metrics: how each process exposes them (docs/metrics.md lists every one).

The metrics are defined beside the code whose events they count:
:mod:`ingest.metrics` (the ingest worker), :mod:`alerts.metrics` (alerts
opened, pushes) and :mod:`api.metrics` (HTTP requests). Every name starts
with ``lastmile_``, and every label value comes from a short fixed list
(a route's template, a rejection code, an alert kind): never a patient id,
a serial or a raw path, so no PHI and no unbounded series.

Which process shows what:

* the ingest worker and the notifier each serve their own counts on a port
  of their own (``settings.ingest_metrics_port``, ``notify_metrics_port``,
  on ``metrics_host``), started by :func:`start_exporter`. These counts are
  per process: a second worker on one machine needs a port of its own
  (``LASTMILE_INGEST_METRICS_PORT``), and Prometheus sums the instances;
* the API serves ``/metrics`` itself. One API process reports its own
  counts. Several (uvicorn's worker processes) share theirs through
  prometheus_client's multiprocess mode: the parent calls
  :func:`use_multiprocess` before it starts them, each worker then counts
  in files in ``settings.api_metrics_dir`` from its first metric on, and
  whichever worker answers ``/metrics`` reports the sum over all of them
  (:func:`exposition`). In that mode the API has no ``process_*`` or
  ``python_gc_*`` metrics, and a worker that died keeps its counts in the
  sum (counters do not go back) until the next start empties the folder.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    start_http_server,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector

from hub.settings import Settings, set_library_environment

log = logging.getLogger(__name__)

#: Every metric of the hub starts with this.
PREFIX = "lastmile_"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_multiprocess(settings: Settings) -> Path:
    """Make the API's worker processes started from now on share ``settings.api_metrics_dir``.

    For the parent of several API processes, before it starts them: they
    inherit ``PROMETHEUS_MULTIPROC_DIR``, and prometheus_client chooses
    where a metric's values live when a process makes its first metric. The
    folder is emptied first (counts of an earlier run would be added in).
    The parent's own metrics, if it made any, stay its own.
    """
    directory = settings.api_metrics_dir
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    set_library_environment(MULTIPROC_ENV, str(directory))
    return directory


def multiprocess() -> bool:
    """Whether this process counts in a multiprocess folder (:func:`use_multiprocess`)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False))


def exposition() -> tuple[bytes, str]:
    """This process's metrics (or its process group's) in the text format, and its type."""
    registry: CollectorRegistry = REGISTRY
    if multiprocess():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def start_exporter(settings: Settings, *, port: int, service: str) -> bool:
    """Serve this process's metrics on ``metrics_host:port`` (a daemon thread).

    ``port`` 0 serves none. A port already taken is logged as an error and
    the service runs on without it: Prometheus then shows its target down.
    """
    if port == 0:
        log.info("metrics port off", extra={"service": service})
        return False
    try:
        start_http_server(port, addr=settings.metrics_host)
    except OSError as exc:
        log.error(
            "metrics port unavailable",
            extra={"service": service, "port": port, "error": str(exc)},
        )
        return False
    log.info(
        "metrics served", extra={"service": service, "host": settings.metrics_host, "port": port}
    )
    return True
