"""``lastmile services up|down|status``: the project's private services.

Attach to the main CLI with ``main.add_command(services)``. The commands use
the :class:`~hub.settings.Settings` in ``ctx.obj`` when the parent group puts
one there, else they load them.
"""

from __future__ import annotations

import logging
import time

import click

from hub.services.exceptions import ServicesError
from hub.services.install import ensure_test_packages
from hub.services.lifecycle import down, status, up
from hub.services.replica import replica_read_url
from hub.settings import Settings, load_settings

__all__ = ["services", "up"]


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj if isinstance(ctx.obj, Settings) else load_settings()


def _configure_logging() -> None:
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    formatter = logging.Formatter("%(asctime)sZ %(levelname)s %(name)s %(message)s")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


@click.group()
def services() -> None:
    """The project's private PostgreSQL/TimescaleDB and Mosquitto."""
    _configure_logging()


@services.command("up")
@click.option(
    "--test-tools",
    is_flag=True,
    help="Also install what the test suite drives (headless Chromium for the dashboard).",
)
@click.option(
    "--replica",
    is_flag=True,
    help="Also a private hot standby streaming from the database: the API's read replica.",
)
@click.pass_context
def up_command(ctx: click.Context, test_tools: bool, replica: bool) -> None:
    """Install what is missing, then start both services (idempotent)."""
    try:
        if test_tools:
            ensure_test_packages()
        settings = up(_settings(ctx), replica=replica)
    except ServicesError as exc:
        raise click.ClickException(str(exc)) from exc
    for service in status(settings):
        click.echo(service.describe())
    click.echo(f"secrets: {settings.env_file}")
    if replica:
        url = replica_read_url(settings)
        click.echo(f"read replica: set LASTMILE_DATABASE_READ_URL='{url}' for the API")


@services.command("down")
@click.pass_context
def down_command(ctx: click.Context) -> None:
    """Stop both services (and the read replica, if there is one)."""
    try:
        stopped = down(_settings(ctx))
    except ServicesError as exc:
        raise click.ClickException(str(exc)) from exc
    for service in stopped:
        click.echo(service.describe())


@services.command("status")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Show whether each service runs, its port, data folder and pid."""
    for service in status(_settings(ctx)):
        click.echo(service.describe())


if __name__ == "__main__":
    services()
