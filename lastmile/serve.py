"""``lastmile db migrate`` and ``lastmile api``: the schema step, then the API's workers."""

from __future__ import annotations

import click

from hub import logs
from hub.settings import load_settings


@click.group()
def db() -> None:
    """Database schema."""


@db.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations and set up the API's database role (idempotent).

    The one step that changes the schema: ``lastmile up`` and the compose file's
    ``migrate`` job run it; the API refuses a database it has not prepared.
    """
    from hub.db import migrate_database

    applied = migrate_database(load_settings())
    click.echo(f"applied migrations: {applied or 'none (up to date)'}; API role ready")


@click.command()
@click.option("--host", default=None, help="default: settings.api_host")
@click.option("--port", default=None, type=int, help="default: settings.api_port")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="worker processes, each with its own connection pools (docs/scaling.md)",
)
def api(host: str | None, port: int | None, workers: int) -> None:
    """Serve the HTTP API and dashboard (on a database `lastmile db migrate` prepared)."""
    import logging

    import uvicorn

    from hub.db import require_api_ready
    from hub.exceptions import DatabaseNotReadyError

    settings = load_settings()
    try:
        require_api_ready(settings)  # before the workers start: each would refuse in turn
    except DatabaseNotReadyError as exc:
        raise click.ClickException(f"{exc.code}: {exc}") from exc
    if workers > 1:
        from hub.metrics import use_multiprocess

        use_multiprocess(settings)  # /metrics answers with every worker's counts summed
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        # Applied in every worker process too (they do not inherit this one's logging).
        log_config=logs.dict_config(level),
    )
