"""The FastAPI application: coordinators and their patients, provisioning, pharmacy feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.audit import AuditMiddleware
from api.exceptions import install_handlers
from api.guards import RequestGuard
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
from hub.db import app_conninfo, connect, ensure_app_role, make_pool, migrate
from hub.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with connect(settings) as conn:
            migrate(conn)
            ensure_app_role(conn, settings)
        # Routes run as the API's role, which cannot change or remove audit rows.
        pool = make_pool(settings, conninfo=app_conninfo(settings))
        app.state.pool = pool
        try:
            yield
        finally:
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

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
