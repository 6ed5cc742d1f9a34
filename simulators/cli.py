"""``lastmile simulate``: register a simulated cohort and play it to the hub over MQTT."""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from types import FrameType

import click
import paho.mqtt.client as mqtt

from hub.settings import load_settings
from simulators.care import care_team, provision_care
from simulators.care_outlook import outlook
from simulators.care_plan import plan_care
from simulators.cohort import Cohort, build_cohort
from simulators.exceptions import SimulatorError
from simulators.provision import ProvisionedCohort, provision_cohort, provision_feed
from simulators.publisher import SimulationStats, run_simulation


def _codes(counts: Mapping[str, int]) -> str:
    listed = ", ".join(f"{code}={n}" for code, n in sorted(counts.items()))
    return f" [{listed}]" if listed else ""


def _line(stats: SimulationStats, *, pharmacy: bool) -> str:
    fills = (
        f", fills {stats.fills} (acked {stats.fills_acked}, {stats.fill_messages} messages), "
        f"fill rejections {stats.fill_errors}{_codes(stats.fill_rejections)}"
    )
    return (
        f"published {stats.published} (acked {stats.acked}), points {stats.points} "
        f"(valid {stats.valid_points}), malformed {stats.malformed}, "
        f"late batches {stats.late_batches}, rejections {stats.errors_received}"
        + _codes(stats.rejections)
        + (fills if pharmacy else "")
        + f" in {stats.elapsed_s:.1f} s"
    )


def _register(
    cohort: Cohort, *, api_url: str, admin_token: str, coordinators: tuple[str, ...], care: bool
) -> ProvisionedCohort:
    """Provision the cohort; with ``care``, its simulated nurses record its programmes and time."""
    if not care:
        return provision_cohort(
            cohort, api_url=api_url, admin_token=admin_token, coordinators=coordinators
        )
    with care_team(
        prefix=cohort.prefix,
        api_url=api_url,
        admin_token=admin_token,
        supervisor_of=coordinators[0] if coordinators else None,
    ) as team:
        provisioned = provision_cohort(
            cohort,
            api_url=api_url,
            admin_token=admin_token,
            coordinators=[*coordinators, *team.usernames],
        )
        plan = plan_care(cohort)
        counts = provision_care(plan, provisioned, team=team, api_url=api_url)
    click.echo(
        f"simulated nurses {', '.join(team.usernames)} recorded {counts.episodes} programmes"
        f" and {counts.entries} time entries"
    )
    click.echo(f"care at {plan.now:%Y-%m-%d %H:%M}Z: {outlook(plan).summary()}")
    return provisioned


@click.command("simulate")
@click.option("--patients", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True)
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=43_200.0,
    show_default=True,
    help="Playback speed: 1 real time, 43200 plays 30 days in a minute, 0 as fast as possible.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--prefix",
    default=None,
    help="Prefix of simulated ids and serials (default: sim<seed>-<start time>, unique per run).",
)
@click.option("--api-url", default=None, help="Hub API base URL (default from settings).")
@click.option("--admin-token", default=None, help="Admin bearer token (default from settings).")
@click.option("--mqtt-host", default=None, help="Broker host (default from settings).")
@click.option("--mqtt-port", type=int, default=None, help="Broker port (default from settings).")
@click.option(
    "--mqtt-protocol", type=click.Choice(["3.1.1", "5"]), default="3.1.1", show_default=True
)
@click.option("--follow", is_flag=True, help="Keep going in real time after the backfill.")
@click.option(
    "--coordinator",
    multiple=True,
    help="User name whose panel the simulated patients join (repeatable).",
)
@click.option(
    "--pharmacy/--no-pharmacy",
    default=True,
    show_default=True,
    help="Provision a pharmacy feed and send the cohort's simulated refills over it.",
)
@click.option(
    "--care/--no-care",
    default=True,
    show_default=True,
    help="Simulated nurses enrol the patients in care programmes and log a month of time"
    " (never in production).",
)
def simulate(
    patients: int,
    days: int,
    speed: float,
    seed: int,
    prefix: str | None,
    api_url: str | None,
    admin_token: str | None,
    mqtt_host: str | None,
    mqtt_port: int | None,
    mqtt_protocol: str,
    follow: bool,
    coordinator: tuple[str, ...],
    pharmacy: bool,
    care: bool,
) -> None:
    """Enroll simulated patients, provision their gateways and devices, publish their readings.

    Simulated patients only. The backfill covers the DAYS before now; rejections
    the hub sends back are counted by code. Unless --no-pharmacy, a simulated
    pharmacy sends the patients' refills (FHIR MedicationDispense) on one feed.
    Unless --no-care (or in production), simulated nurses enrol the patients in
    RPM, CCM and TCM and log their time and calls over the window.
    """
    settings = load_settings()
    if care and settings.environment == "production":
        click.echo("care programmes and time: not simulated in production")
        care = False
    end = datetime.now(UTC).replace(microsecond=0)
    prefix = prefix or f"sim{seed}-{end:%Y%m%d%H%M%S}"
    try:
        cohort = build_cohort(patients, seed=seed, end=end, days=days, prefix=prefix)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    n_devices = sum(len(p.devices) for p in cohort.patients)
    click.echo(f"cohort {prefix}: {patients} patients, {n_devices} devices, {days} days to {end}")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGINT, on_signal)
    api_url = api_url or f"http://{settings.api_host}:{settings.api_port}"
    admin_token = admin_token or settings.admin_token.get_secret_value()
    try:
        provisioned = _register(
            cohort, api_url=api_url, admin_token=admin_token, coordinators=coordinator, care=care
        )
        click.echo(f"provisioned {len(provisioned.gateways)} gateways")
        feed = None
        if pharmacy:
            label = f"simulated pharmacy {prefix}"
            feed = provision_feed(label=label, api_url=api_url, admin_token=admin_token)
            click.echo(f"provisioned pharmacy feed {feed.feed_id}")
        stats = run_simulation(
            cohort,
            provisioned,
            host=mqtt_host or settings.mqtt_host,
            port=mqtt_port or settings.mqtt_port,
            speed=speed,
            protocol=mqtt.MQTTv5 if mqtt_protocol == "5" else mqtt.MQTTv311,
            follow=follow,
            stop=stop,
            keepalive_s=settings.mqtt_keepalive_s,
            on_progress=lambda s: click.echo(_line(s, pharmacy=pharmacy)),
            feed=feed,
        )
    except SimulatorError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        signal.signal(signal.SIGINT, previous)
    click.echo(("stopped: " if stop.is_set() else "done: ") + _line(stats, pharmacy=pharmacy))
