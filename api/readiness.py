"""``/readyz``: whether the hub's services answer; ``/healthz`` stays liveness.

``GET /readyz`` checks, at once and each within :data:`TIMEOUT_S`, that the
database accepts a connection as the API's role and answers a query, and
that the broker accepts an MQTT connection with the hub's credentials. 200
``{"status": "ready", "checks": {...}}`` when both do; otherwise 503 with
``{"code": "not_ready", "detail": ..., "checks": {...}}``, each check
``ok`` or the code of what failed:

* ``database_unavailable``: no connection within the timeout, or the query failed;
* ``broker_unavailable``: no connection or no CONNACK within the timeout;
* ``broker_refused``: the broker answered but refused the hub's credentials.

A load balancer takes an API that is not ready out of rotation; a process
supervisor restarts on ``/healthz`` only (the API itself is alive while the
database is away, and answers 503 for what needs it).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import psycopg
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from hub.db import app_conninfo
from hub.services.exceptions import DynsecError
from hub.services.hub_user import login_works
from hub.settings import Settings

log = logging.getLogger(__name__)

#: Seconds each check may take (libpq's connect timeout is whole seconds, at least 2).
TIMEOUT_S = 2

OK = "ok"

router = APIRouter()


def check_database(settings: Settings) -> str:
    try:
        with psycopg.connect(app_conninfo(settings), connect_timeout=TIMEOUT_S) as conn:
            conn.execute("SELECT 1").fetchone()
    except psycopg.Error:
        return "database_unavailable"
    return OK


def check_broker(settings: Settings) -> str:
    try:
        accepted = login_works(
            host=settings.mqtt_host,
            port=settings.mqtt_port,
            username=settings.mqtt_hub_username,
            password=settings.mqtt_hub_password.get_secret_value(),
            timeout_s=TIMEOUT_S,
        )
    except DynsecError:  # no connection, or no CONNACK in time
        return "broker_unavailable"
    return OK if accepted else "broker_refused"


@router.get("/readyz", include_in_schema=False)
def readyz(settings: SettingsDep) -> JSONResponse:
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz") as pool:
        database = pool.submit(check_database, settings)
        broker = pool.submit(check_broker, settings)
        checks = {"database": database.result(), "broker": broker.result()}
    down = sorted(code for code in checks.values() if code != OK)
    if not down:
        return JSONResponse({"status": "ready", "checks": checks})
    log.warning("not ready", extra={"checks": checks})
    return JSONResponse(
        {"code": "not_ready", "detail": "not ready: " + ", ".join(down), "checks": checks},
        status_code=503,
    )
