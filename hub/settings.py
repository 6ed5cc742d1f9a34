"""The one settings object of the hub.

Everything configurable is read here, once, from the environment (prefix
``LASTMILE_``) and from ``<data_dir>/lastmile.env``, which ``lastmile services
up`` writes with freshly generated secrets on first run in development.
Nothing else in the code base reads ``os.environ``: the settings object is
passed in.

Outside development the secrets must be set explicitly; the generated
development ones and known placeholders are refused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub import conninfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The benchmarks' own private services (and ``lastmile eval --pipeline``'s), so
#: that a development hub's offline ingest session neither queues their
#: messages nor skews their figures.
BENCH_SERVICES: dict[str, Any] = {
    "data_dir": PROJECT_ROOT / ".lastmile-bench",
    "pg_port": 55434,
    "mqtt_port": 18885,
    "api_port": 8810,
    "ingest_metrics_port": 9814,
    "notify_metrics_port": 9815,
}

_PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "password", "admin"})


def _data_dir_from_env() -> Path:
    # The data folder must be known before the env file inside it can be read;
    # this is the one place besides Settings that looks at the environment.
    return Path(os.environ.get("LASTMILE_DATA_DIR", str(PROJECT_ROOT / ".lastmile")))


class VendorSettings(BaseModel):
    """One vendor cloud's settings: the same shape for every vendor (devices/cloud).

    ``verification_code`` authenticates the vendor's webhook calls (Fitbit's
    subscriber verification code; for a vendor that does not sign its
    notifications, the secret the hub puts in the callback URL it registers).
    ``token_key`` seals the vendor's tokens at rest and signs OAuth ``state``.
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    #: Where the vendor sends the browser back: the hub's /api/v1/<vendor>/callback.
    redirect_url: str = ""
    #: The hub's public /api/v1/<vendor>/webhook, for vendors told where to notify.
    notify_url: str = ""
    verification_code: SecretStr = SecretStr("")
    #: Fitbit's subscriber id (dev.fitbit.com); unused by other vendors.
    subscriber_id: str = "1"
    api_url: str = ""
    authorize_url: str = ""
    token_key: SecretStr = SecretStr("")
    pull_interval_s: float = Field(default=3600.0, gt=0)
    backfill_days: int = Field(default=7, ge=1, le=30)
    timeout_s: float = Field(default=20.0, gt=0, le=120)
    #: Trust this CA (a PEM file) for the vendor's URLs as well: a local test server.
    ca_file: Path | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.client_id)


class Settings(BaseSettings):
    """Hub configuration; build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="LASTMILE_",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
        # A refused setting must not echo the inputs: they hold the secrets.
        hide_input_in_errors=True,
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default_factory=_data_dir_from_env)

    # PostgreSQL + TimescaleDB, a private cluster on loopback. The connection is
    # either the keyword parts (pg_host ... pg_database) or one libpq string or
    # URI, ``database_url``, whose parts fill those not given; a part given as
    # well overrides the URL's (see :meth:`conninfo_for`).
    database_url: SecretStr | None = None
    #: A hot standby serving the read-heavy routes (docs/scaling.md): its host,
    #: port and options. The database, user and password are the primary's (a
    #: physical replica holds the same databases and roles) unless it names them.
    database_read_url: SecretStr | None = None
    pg_host: str = "127.0.0.1"
    pg_port: int = 55432
    pg_user: str = "lastmile"
    pg_password: SecretStr = SecretStr("")
    pg_database: str = "lastmile"
    pg_pool_max: int = 8
    #: libpq's connect_timeout: an unreachable server is an error after this, not a hang.
    pg_connect_timeout_s: int = Field(default=5, ge=2)
    #: The private hot standby's port (``lastmile services up --replica``); default pg_port + 1.
    pg_replica_port: int | None = None
    #: How long a request waits for a pooled connection before answering 503.
    pg_pool_timeout_s: float = Field(default=10.0, gt=0)
    #: The API's statements are cancelled after this (503): a stuck server is not a hang.
    pg_statement_timeout_s: float = Field(default=60.0, gt=0)
    #: A consistent read (the worklist) waits this long for the replica to replay
    #: what was committed before the request, then reads from the primary.
    database_read_wait_s: float = Field(default=0.25, ge=0)
    #: A lagged read (readings, charts) is served by the replica while it lacks
    #: nothing older than this; otherwise by the primary.
    database_read_max_lag_s: float = Field(default=5.0, ge=0)

    # Mosquitto, a private broker on loopback.
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 18883
    mqtt_admin_username: str = "lastmile-admin"
    mqtt_admin_password: SecretStr = SecretStr("")
    mqtt_hub_username: str = "lastmile-hub"
    mqtt_hub_password: SecretStr = SecretStr("")
    mqtt_ingest_client_id: str = "lastmile-ingest"
    mqtt_keepalive_s: int = 30

    # HTTP API.
    api_host: str = "127.0.0.1"
    api_port: int = 8808
    admin_token: SecretStr = SecretStr("")
    #: Coordinators' bearer tokens: absolute lifetime, and idle time that ends one.
    token_lifetime_s: int = 8 * 3600
    auth_idle_timeout_s: int = 30 * 60
    #: Failed logins allowed per user name, and per client address, in the window.
    login_max_failures: int = 5
    login_max_failures_per_client: int = 20
    login_window_s: int = 15 * 60
    #: Largest request body (413 above it, api/guards.py); uploads (pharmacy feeds) get more.
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    api_max_upload_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)

    # Prometheus metrics (hub/metrics.py, docs/metrics.md). The API serves its
    # own on /metrics; the ingest worker and the notifier each on a port of
    # their own, on ``metrics_host`` (0: no metrics port).
    metrics_host: str = "127.0.0.1"
    ingest_metrics_port: int = Field(default=9808, ge=0, le=65535)
    notify_metrics_port: int = Field(default=9809, ge=0, le=65535)

    # Ingest.
    ingest_batch_size: int = Field(default=1000, ge=1, le=20000)
    ingest_flush_ms: int = Field(default=25, ge=1, le=5000)
    ingest_retry_max_s: float = Field(default=5.0, gt=0)
    #: Ingest workers ``lastmile up`` runs. More than one share the broker's
    #: subscriptions (``$share/<group>/...``), each as a slot of its own
    #: (docs/scaling.md).
    ingest_workers: int = Field(default=1, ge=1, le=32)
    #: This worker's slot among several (``lastmile ingest --slot``); ``None``:
    #: the hub's one worker, with plain subscriptions.
    ingest_slot: int | None = Field(default=None, ge=0, le=9999)
    #: How long a worker of several, told to stop, keeps storing what the broker
    #: had queued for it before it disconnects.
    ingest_drain_s: float = Field(default=30.0, gt=0)
    future_tolerance_s: int = Field(default=300, ge=0)
    #: A reading measured longer than this before it arrived is ``time_too_old``:
    #: the dates a dead clock battery or a GPS week rollover produce (1970,
    #: 2000, ~20 years back), not a store-and-forward delay.
    max_reading_age_days: int = Field(default=1826, ge=1)
    detection_enabled: bool = True
    #: Score in a child process of the ingest worker (off: in the worker itself).
    detection_process: bool = True
    adherence_interval_s: float = Field(default=300.0, gt=0)
    #: Also check a patient's adherence when their readings arrive (in full at
    #: most once per ``adherence_interval_s``; what the readings clear, on
    #: every batch).
    adherence_on_arrival: bool = True
    max_points_per_message: int = 500
    max_message_bytes: int = 1_048_576

    # Web Push to coordinators (alerts/pusher.py); the VAPID key pair is kept
    # in the data folder (alerts/vapid.py).
    #: The VAPID ``sub`` claim: how a push service reaches the operator.
    vapid_subject: str = Field(default="mailto:ops@lastmile.invalid", pattern=r"^(mailto:|https:)")
    push_timeout_s: float = Field(default=10.0, gt=0, le=120)
    push_ttl_s: int = Field(default=12 * 3600, gt=0)
    push_ttl_critical_s: int = Field(default=3600, gt=0)
    push_max_attempts: int = Field(default=5, ge=1, le=50)
    push_backoff_s: float = Field(default=30.0, gt=0)
    push_backoff_max_s: float = Field(default=3600.0, gt=0)
    push_batch_size: int = Field(default=50, ge=1, le=1000)
    push_poll_s: float = Field(default=2.0, gt=0)
    #: Accept plain-http push endpoints (a fake push service on loopback in tests).
    push_allow_http_endpoints: bool = False
    #: A critical alert nobody acknowledged this long escalates, and again each time.
    escalation_after_s: int = Field(default=15 * 60, gt=0)
    escalation_check_s: float = Field(default=30.0, gt=0)

    # Vendor clouds (devices/cloud, docs/vendors.md): one VendorSettings each,
    # set as LASTMILE_<VENDOR>__<FIELD> (e.g. LASTMILE_FITBIT__CLIENT_ID); a
    # vendor is off while its client_id is empty.
    fitbit: VendorSettings = Field(
        default_factory=lambda: VendorSettings(
            redirect_url="http://127.0.0.1:8808/api/v1/fitbit/callback",
            api_url="https://api.fitbit.com",
            authorize_url="https://www.fitbit.com",
        )
    )
    withings: VendorSettings = Field(
        default_factory=lambda: VendorSettings(
            redirect_url="http://127.0.0.1:8808/api/v1/withings/callback",
            notify_url="http://127.0.0.1:8808/api/v1/withings/webhook",
            api_url="https://wbsapi.withings.net",
            authorize_url="https://account.withings.com",
        )
    )
    #: How often ``lastmile vendors`` looks for queued and due pulls.
    vendors_poll_s: float = Field(default=5.0, gt=0)

    @property
    def vendor_names(self) -> tuple[str, ...]:
        """The settings' vendor fields, in declaration order."""
        return tuple(
            name
            for name, field in type(self).model_fields.items()
            if field.annotation is VendorSettings
        )

    def vendor(self, name: str) -> VendorSettings:
        """One vendor's settings (``KeyError`` for a name that is not a vendor)."""
        if name not in self.vendor_names:
            raise KeyError(name)
        found: VendorSettings = getattr(self, name)
        return found

    @property
    def vendors_enabled(self) -> bool:
        """Whether any vendor cloud is configured (``lastmile vendors`` has work)."""
        return any(self.vendor(name).enabled for name in self.vendor_names)

    @model_validator(mode="before")
    @classmethod
    def _vendor_defaults(cls, data: Any) -> Any:
        """A vendor set in part (``LASTMILE_FITBIT__CLIENT_ID`` only) keeps its other defaults."""
        if not isinstance(data, dict):
            return data
        for name, field in cls.model_fields.items():
            given = data.get(name)
            if field.annotation is VendorSettings and isinstance(given, dict):
                default = field.get_default(call_default_factory=True)
                data = {**data, name: {**dict(default), **given}}
        return data

    @model_validator(mode="before")
    @classmethod
    def _parts_from_url(cls, data: Any) -> Any:
        """The keyword parts not given take the values of ``database_url``."""
        if not isinstance(data, dict) or not data.get("database_url"):
            return data
        url = _parse(data["database_url"], "LASTMILE_DATABASE_URL")
        return {**data, **conninfo.url_fills(url, given=set(data))}

    @model_validator(mode="after")
    def _read_url_parses(self) -> Settings:
        if self.database_read_url is not None:
            _parse(self.database_read_url, "LASTMILE_DATABASE_READ_URL")
        return self

    @model_validator(mode="after")
    def _vendors_complete(self) -> Settings:
        production = self.environment != "development"
        for vendor in self.vendor_names:
            config = self.vendor(vendor)
            if not config.enabled:
                continue
            for name in ("client_secret", "token_key", "verification_code"):
                secret = getattr(config, name).get_secret_value()
                weak = secret.lower() in _PLACEHOLDERS or len(secret) < 16
                if not secret or (weak and name == "token_key" and production):
                    env = f"LASTMILE_{vendor.upper()}__{name.upper()}"
                    msg = f"{env} must be set to a strong secret to use {vendor}"
                    raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        if self.environment == "development":
            return self
        for name in ("pg_password", "mqtt_admin_password", "mqtt_hub_password", "admin_token"):
            value: SecretStr = getattr(self, name)
            secret = value.get_secret_value()
            if secret.lower() in _PLACEHOLDERS or len(secret) < 16:
                msg = f"LASTMILE_{name.upper()} must be set to a strong secret outside development"
                raise ValueError(msg)
        return self

    @property
    def env_file(self) -> Path:
        return self.data_dir / "lastmile.env"

    @property
    def api_metrics_dir(self) -> Path:
        """Where the API's processes keep their metrics, so one /metrics sums them all.

        prometheus_client's multiprocess folder (``PROMETHEUS_MULTIPROC_DIR``);
        ``lastmile api`` empties it when it starts.
        """
        return self.data_dir / "metrics" / "api"

    @property
    def pg_socket_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def replica_port(self) -> int:
        return self.pg_replica_port or self.pg_port + 1

    @property
    def conninfo(self) -> str:
        """libpq connection string for the hub's database."""
        return self.conninfo_for(self.pg_database)

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        """The environment for a ``lastmile`` child process that uses these settings."""
        env = dict(os.environ)
        env.update(
            {
                "LASTMILE_ENVIRONMENT": self.environment,
                "LASTMILE_DATA_DIR": str(self.data_dir),
                "LASTMILE_PG_HOST": self.pg_host,
                "LASTMILE_PG_PORT": str(self.pg_port),
                "LASTMILE_PG_DATABASE": self.pg_database,
                "LASTMILE_MQTT_HOST": self.mqtt_host,
                "LASTMILE_MQTT_PORT": str(self.mqtt_port),
                "LASTMILE_MQTT_INGEST_CLIENT_ID": self.mqtt_ingest_client_id,
                "LASTMILE_API_PORT": str(self.api_port),
                "LASTMILE_METRICS_HOST": self.metrics_host,
                "LASTMILE_INGEST_METRICS_PORT": str(self.ingest_metrics_port),
                "LASTMILE_NOTIFY_METRICS_PORT": str(self.notify_metrics_port),
            }
        )
        for name, url in (
            ("LASTMILE_DATABASE_URL", self.database_url),
            ("LASTMILE_DATABASE_READ_URL", self.database_read_url),
        ):
            if url is not None:
                env[name] = url.get_secret_value()
        env.update(extra)
        return env

    def conninfo_for(self, database: str) -> str:
        """libpq connection string for ``database`` on the hub's server.

        ``database_url`` (if set) is the base, and the keyword parts override
        it, except a URL's list of hosts (failover), which is kept as it is.
        Quoting is psycopg's (a password may hold spaces, quotes, backslashes).
        """
        url = None
        if self.database_url is not None:
            url = _parse(self.database_url, "LASTMILE_DATABASE_URL")
        parts = {
            "host": self.pg_host,
            "port": self.pg_port,
            "user": self.pg_user,
            "password": self.pg_password.get_secret_value() or None,
        }
        defaults = {"application_name": "lastmile", "connect_timeout": self.pg_connect_timeout_s}
        return conninfo.primary(url, parts, defaults=defaults, dbname=database)

    @property
    def read_conninfo(self) -> str | None:
        """libpq connection string for the read replica's copy of the hub's database, if any."""
        return None if self.database_read_url is None else self.read_conninfo_for(self.pg_database)

    def read_conninfo_for(self, database: str) -> str:
        """The primary's connection for ``database`` with the replica's host, port and options."""
        if self.database_read_url is None:
            return self.conninfo_for(database)
        read = _parse(self.database_read_url, "LASTMILE_DATABASE_READ_URL")
        return conninfo.replica(self.conninfo_for(database), read)


def _parse(value: object, name: str) -> dict[str, str]:
    text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return conninfo.parse(text, name)


def set_library_environment(name: str, value: str) -> None:
    """Set a variable that a library reads from the environment itself.

    prometheus_client learns its multiprocess folder only from
    ``PROMETHEUS_MULTIPROC_DIR`` (hub/metrics.py). Like the reads above, the
    one place that writes ``os.environ``; child processes inherit it.
    """
    os.environ[name] = value


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and the data folder's env file."""
    env_file = _data_dir_from_env() / "lastmile.env"
    if "data_dir" in overrides:
        env_file = Path(str(overrides["data_dir"])) / "lastmile.env"
    return Settings(_env_file=env_file if env_file.exists() else None, **overrides)
