"""``lastmile users`` and ``lastmile audit``: accounts and the audit log from the shell."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from uuid import UUID

import click

from api import accounts, audit
from api.accounts import Role
from hub.db import connect
from hub.exceptions import HubError
from hub.settings import load_settings


@click.group()
def users() -> None:
    """Coordinators, supervisors and admins."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.COORDINATOR.value)
@click.option("--display-name", default=None)
@click.option("--supervisor", "supervisor_id", type=click.UUID, default=None)
@click.password_option(help="The password (asked for when not given).")
def create(
    username: str, role: str, display_name: str | None, supervisor_id: UUID | None, password: str
) -> None:
    """Create a user (the first admin, say)."""
    try:
        with connect(load_settings()) as conn:
            user = accounts.create_user(
                conn,
                username=username,
                password=password,
                role=Role(role),
                now=datetime.now(UTC),
                display_name=display_name,
                supervisor_id=supervisor_id,
            )
            conn.commit()
    except (HubError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{user.role.value} {user.username} created: {user.id}")


@click.group("audit")
def audit_group() -> None:
    """The append-only audit log."""


@audit_group.command("verify")
def verify() -> None:
    """Recompute the audit log's hash chain; exit 1 if a row was changed or removed."""
    with connect(load_settings()) as conn:
        report = audit.verify(conn)
    head = report.head_hash.hex() if report.head_hash else "-"
    click.echo(f"{report.rows} rows; head id {report.head_id}, hash {head}")
    if report.intact:
        click.echo("audit log intact")
        return
    for row_id, kind in report.breaks:
        what = "content changed" if kind == "content" else "chain broken before it"
        click.echo(f"row {row_id}: {what}", err=True)
    sys.exit(1)
