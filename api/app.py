"""The FastAPI application: coordinators and their patients, provisioning, pharmacy feeds.

:func:`create_app` is also uvicorn's factory (``api.app:create_app``,
``factory=True``): ``lastmile api --workers N`` calls it once in each worker
process. The API does not migrate: it refuses to start, with a coded log line,
on a database that ``lastmile db migrate`` has not brought up to this code.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.audit import AuditMiddleware
from api.exceptions import install_handlers
from api.guards import RequestGuard
from api.metrics import install_metrics
from api.readiness import router as readiness
from api.views import (
    adherence,
    alerts,
    auth,
    billing,
    care,
    dashboard,
    devices,
    measures,
    patients,
    pharmacy,
    program_records,
    programs,
    provisioning,
    push,
    readings,
    time_log,
    vendors,
    worklist,
)
from hub.db import app_conninfo, app_read_conninfo, make_pool, require_api_ready
from hub.settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application on ``settings``.

    Without them (uvicorn's factory, in a served process) the settings are
    read from the environment and the data folder's env file, and what is
    built is frozen out of the garbage collector's reach: ~10^5 long-lived
    objects (numpy, scipy, river) would otherwise be walked by every full
    collection, 45-60 ms each (``lastmile bench worklist``).
    """
    if settings is not None:
        return _build(settings)
    app = _build(load_settings())
    gc.collect()
    gc.freeze()
    return app


def _build(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        require_api_ready(settings)  # refuses a database `lastmile db migrate` has not prepared
        # Routes run as the API's role, which cannot change or remove audit rows.
        pool = make_pool(settings, conninfo=app_conninfo(settings), timeouts=True)
        app.state.pool = pool
        # The read-heavy routes' replica (api/deps.py, ReadConnDep); a replica that
        # is down does not hold the start up: those routes read from the primary.
        read = app_read_conninfo(settings)
        read_pool = (
            None if read is None else make_pool(settings, conninfo=read, wait=False, timeouts=True)
        )
        app.state.read_pool = read_pool
        try:
            yield
        finally:
            if read_pool is not None:
                read_pool.close()
            pool.close()

    app = FastAPI(
        title="Lastmile hub",
        version="1",
        lifespan=lifespan,
        description="Remote patient monitoring hub. Contract: lastmile/v1 topics and /api/v1.",
    )
    app.state.settings = settings
    install_handlers(app)
    # Added first, so inside the audit middleware: refused bodies are audited too.
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.api_max_body_bytes,
        max_upload_bytes=settings.api_max_upload_bytes,
    )
    app.add_middleware(AuditMiddleware)
    install_metrics(app)  # outermost: times the whole answer
    app.include_router(auth.router)
    app.include_router(patients.router)
    app.include_router(provisioning.router)
    app.include_router(devices.router)
    app.include_router(devices.admin)
    app.include_router(readings.router)
    app.include_router(measures.router)
    app.include_router(pharmacy.router)
    app.include_router(adherence.router)
    app.include_router(push.router)
    app.include_router(alerts.router)
    app.include_router(programs.router)
    app.include_router(program_records.router)
    app.include_router(time_log.router)
    app.include_router(care.router)
    app.include_router(billing.router)
    app.include_router(dashboard.router)
    app.include_router(vendors.router)
    app.include_router(worklist.router)
    app.include_router(readiness)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
