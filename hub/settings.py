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

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The benchmarks' own private services (and ``lastmile eval --pipeline``'s), so
#: that a development hub's offline ingest session neither queues their
#: messages nor skews their figures.
BENCH_SERVICES: dict[str, Any] = {
    "data_dir": PROJECT_ROOT / ".lastmile-bench",
    "pg_port": 55434,
    "mqtt_port": 18885,
    "api_port": 8810,
}

_PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "password", "admin"})


def _data_dir_from_env() -> Path:
    # The data folder must be known before the env file inside it can be read;
    # this is the one place besides Settings that looks at the environment.
    return Path(os.environ.get("LASTMILE_DATA_DIR", str(PROJECT_ROOT / ".lastmile")))


class Settings(BaseSettings):
    """Hub configuration; build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="LASTMILE_",
        extra="ignore",
        frozen=True,
        # A refused setting must not echo the inputs: they hold the secrets.
        hide_input_in_errors=True,
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default_factory=_data_dir_from_env)

    # PostgreSQL + TimescaleDB, a private cluster on loopback.
    pg_host: str = "127.0.0.1"
    pg_port: int = 55432
    pg_user: str = "lastmile"
    pg_password: SecretStr = SecretStr("")
    pg_database: str = "lastmile"
    pg_pool_max: int = 8

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

    # Ingest.
    ingest_batch_size: int = Field(default=1000, ge=1, le=20000)
    ingest_flush_ms: int = Field(default=25, ge=1, le=5000)
    ingest_retry_max_s: float = Field(default=5.0, gt=0)
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

    # Fitbit (devices/fitbit, docs/fitbit.md): off while fitbit_client_id is empty.
    fitbit_client_id: str = ""
    fitbit_client_secret: SecretStr = SecretStr("")
    #: Where Fitbit sends the browser back: the hub's /api/v1/fitbit/callback.
    fitbit_redirect_url: str = "http://127.0.0.1:8808/api/v1/fitbit/callback"
    #: The subscriber's verification code from the app's settings at dev.fitbit.com.
    fitbit_verification_code: SecretStr = SecretStr("")
    fitbit_subscriber_id: str = "1"
    fitbit_api_url: str = "https://api.fitbit.com"
    fitbit_authorize_url: str = "https://www.fitbit.com"
    #: Encrypts Fitbit tokens at rest and signs OAuth ``state`` (keys derived from it).
    fitbit_token_key: SecretStr = SecretStr("")
    fitbit_pull_interval_s: float = Field(default=3600.0, gt=0)
    fitbit_backfill_days: int = Field(default=7, ge=1, le=30)
    fitbit_timeout_s: float = Field(default=20.0, gt=0, le=120)
    #: Trust this CA (a PEM file) for the Fitbit URLs as well: a local test server.
    fitbit_ca_file: Path | None = None
    #: How often ``lastmile vendors`` looks for queued and due pulls.
    vendors_poll_s: float = Field(default=5.0, gt=0)

    @property
    def fitbit_enabled(self) -> bool:
        return bool(self.fitbit_client_id)

    @model_validator(mode="after")
    def _fitbit_complete(self) -> Settings:
        if not self.fitbit_enabled:
            return self
        for name in ("fitbit_client_secret", "fitbit_token_key", "fitbit_verification_code"):
            secret = getattr(self, name).get_secret_value()
            weak = secret.lower() in _PLACEHOLDERS or len(secret) < 16
            production = self.environment != "development"
            if not secret or (weak and name == "fitbit_token_key" and production):
                msg = f"LASTMILE_{name.upper()} must be set to a strong secret to use Fitbit"
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
    def pg_socket_dir(self) -> Path:
        return self.data_dir / "run"

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
            }
        )
        env.update(extra)
        return env

    def conninfo_for(self, database: str) -> str:
        return (
            f"host={self.pg_host} port={self.pg_port} user={self.pg_user} "
            f"password={self.pg_password.get_secret_value()} dbname={database} "
            "application_name=lastmile"
        )


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment and the data folder's env file."""
    env_file = _data_dir_from_env() / "lastmile.env"
    if "data_dir" in overrides:
        env_file = Path(str(overrides["data_dir"])) / "lastmile.env"
    return Settings(_env_file=env_file if env_file.exists() else None, **overrides)
