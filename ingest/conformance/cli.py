"""``lastmile conformance``: the vendor conformance kit's command.

Exit codes: 0 every check and expectation passed; 1 something failed (a
refused connection, an unexpected rejection or storage, an expectation not
met, an ACL check, a probe without answer); 2 a usage error (options, sample
files); 3 the broker cannot be reached.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from hub.settings import load_settings
from ingest.conformance.exceptions import BrokerUnavailableError, SampleError
from ingest.conformance.models import Report
from ingest.conformance.offline import run_offline
from ingest.conformance.online import Target, run_online
from ingest.conformance.report import render, write_json
from ingest.conformance.samples import load_samples, shipped_samples
from ingest.conformance.session import PROTOCOLS
from ingest.validation import Validator

EXIT_FAILED = 1
EXIT_UNREACHABLE = 3


def _devices(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        folder, sep, serial = pair.partition("=")
        if not sep or not folder or not serial:
            raise click.BadParameter(f"{pair!r} is not FOLDER=SERIAL", param_hint="--device")
        mapping[folder] = serial
    return mapping


@click.command("conformance")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--samples", "more", multiple=True, type=click.Path(exists=True, path_type=Path),
    help="A folder of <device>/<name>.json files, or a file (repeatable). "
    "Default: the samples shipped with the kit.",
)  # fmt: skip
@click.option("--offline", is_flag=True, help="Only run the hub's Validator; no broker needed.")
@click.option("--host", help="The hub's MQTT broker (default: LASTMILE_MQTT_HOST).")
@click.option("--port", type=int, help="The broker's port (default: LASTMILE_MQTT_PORT).")
@click.option("--gateway-id", help="The gateway id: MQTT username and client id.")
@click.option(
    "--password", envvar="LASTMILE_GATEWAY_PASSWORD", show_envvar=True,
    help="The gateway's MQTT password; prompted for (not echoed) when not given.",
)  # fmt: skip
@click.option("--mqtt", type=click.Choice(sorted(PROTOCOLS)), default="3.1.1", show_default=True)
@click.option(
    "--device", "devices", multiple=True, metavar="FOLDER=SERIAL",
    help="Publish a sample folder's messages for this device serial (repeatable).",
)  # fmt: skip
@click.option("--no-acl", is_flag=True, help="Skip the topic and ACL checks.")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per answer.")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a machine-readable report to this file.",
)  # fmt: skip
def conformance(
    paths: tuple[Path, ...],
    more: tuple[Path, ...],
    offline: bool,
    host: str | None,
    port: int | None,
    gateway_id: str | None,
    password: str | None,
    mqtt: str,
    devices: tuple[str, ...],
    no_acl: bool,
    timeout: float,
    json_path: Path | None,
) -> None:
    """Check a gateway's payloads and behaviour against a Lastmile hub.

    Online (default): connect as the gateway, run the topic and ACL checks,
    publish every sample and report per message and data point whether the
    hub stored it or rejected it, and with which code. Offline (--offline):
    run the samples through the hub's own Validator.
    """
    settings = load_settings()
    try:
        samples = load_samples(paths + more or (shipped_samples(),), devices=_devices(devices))
    except SampleError as exc:
        raise click.UsageError(str(exc)) from None
    if offline:
        report = run_offline(
            samples, now=datetime.now(UTC), validator=Validator.from_settings(settings)
        )
    else:
        if not gateway_id:
            raise click.UsageError("--gateway-id is required online (or use --offline)")
        if password is None:
            password = click.prompt("Gateway password", hide_input=True)
        target = Target(
            host=host or settings.mqtt_host,
            port=port or settings.mqtt_port,
            gateway_id=gateway_id,
            password=password,
            mqtt=mqtt,
            timeout=timeout,
        )
        try:
            report = run_online(samples, target, acl=not no_acl)
        except BrokerUnavailableError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(EXIT_UNREACHABLE) from None
    _finish(report, json_path)


def _finish(report: Report, json_path: Path | None) -> None:
    click.echo(render(report))
    if json_path is not None:
        write_json(report, json_path)
    if not report.passed:
        raise SystemExit(EXIT_FAILED)
