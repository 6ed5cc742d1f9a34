"""``lastmile up`` runs one ingest worker, or ``ingest_workers`` slots of a share group."""

from __future__ import annotations

from hub.settings import Settings
from lastmile.run import ingest_children


def test_one_worker_by_default_and_n_slots_when_asked() -> None:
    one = Settings(environment="development")
    assert [(c.name, c.argv) for c in ingest_children(one)] == [("ingest", ["ingest"])]
    three = one.model_copy(update={"ingest_workers": 3})
    assert [(c.name, c.argv) for c in ingest_children(three)] == [
        ("ingest-0", ["ingest", "--slot", "0"]),
        ("ingest-1", ["ingest", "--slot", "1"]),
        ("ingest-2", ["ingest", "--slot", "2"]),
    ]
