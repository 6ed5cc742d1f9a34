"""Exceptions of the ``api`` package, and the one place HTTP statuses are chosen.

Tree::

    ApiError
    ├── BadRequestError       a request that is well-formed JSON but asks for nonsense (400)
    ├── UnauthorizedError     no valid credentials (401, with ``WWW-Authenticate: Bearer``)
    ├── ForbiddenError        a valid caller whose role may not do this (403)
    └── TooManyRequestsError  too many attempts; try again after ``retry_after_s`` (429)

Errors from other packages are mapped here too: ``hub.exceptions.NotFoundError`` →
404, ``ConflictError`` → 409, a programme's rule (``programs.exceptions``) → 400
for the data and 409 for the programme's state, each with the rule's code, the
month's billing export (``flows.billing_export.exceptions``) → 400 for the
month asked (``invalid_month``) and 409 for its sign-off's state,
``devices`` and broker (dynamic-security) failures → 503, the database out of
reach (``psycopg.OperationalError``, the pool's timeout included) → 503
``database_unavailable`` and a statement over its timeout → 503
``database_timeout`` (both with ``Retry-After``), and a value the
database cannot hold (``psycopg.DataError``: a NUL character in a text, a
number out of range) → 400 ``invalid_value``. Every error body is
``{"code": ..., "detail": ...}``. A body over the size limit is refused
before any route, by :mod:`api.guards` (413 ``payload_too_large``).
"""

from __future__ import annotations

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.audit import audit_context
from devices.exceptions import DevicesError
from flows.billing_export.exceptions import BillingExportError, SignOffStateError
from hub.exceptions import ConflictError, NotFoundError
from hub.services.exceptions import DynsecError
from programs.exceptions import ProgramsError, ProgramStateError

#: Retry-After (seconds) of a 503 for a database that is away or too slow.
RETRY_AFTER_S = 5


class ApiError(Exception):
    """Root of the api package's exceptions."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class BadRequestError(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST


class UnauthorizedError(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED


class ForbiddenError(ApiError):
    status_code = status.HTTP_403_FORBIDDEN


class TooManyRequestsError(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, code: str, detail: str, *, retry_after_s: int) -> None:
        super().__init__(code, detail)
        self.retry_after_s = retry_after_s


def _body(code: str, detail: object, status_code: int) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, status_code=status_code)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = _body(exc.code, exc.detail, exc.status_code)
        if isinstance(exc, UnauthorizedError):
            response.headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, TooManyRequestsError):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return _body("not_found", str(exc), status.HTTP_404_NOT_FOUND)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return _body("conflict", str(exc), status.HTTP_409_CONFLICT)

    @app.exception_handler(ProgramsError)
    async def _programme_rule(request: Request, exc: ProgramsError) -> JSONResponse:
        state = isinstance(exc, ProgramStateError)
        code = status.HTTP_409_CONFLICT if state else status.HTTP_400_BAD_REQUEST
        return _body(exc.code, str(exc), code)

    @app.exception_handler(BillingExportError)
    async def _billing_rule(request: Request, exc: BillingExportError) -> JSONResponse:
        state = isinstance(exc, SignOffStateError)
        code = status.HTTP_409_CONFLICT if state else status.HTTP_400_BAD_REQUEST
        return _body(exc.code, str(exc), code)

    @app.exception_handler(psycopg.OperationalError)
    async def _database_away(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        if isinstance(exc, psycopg.errors.QueryCanceled):  # the statement timeout
            detail = "the database did not answer in time; try again shortly"
            response = _body("database_timeout", detail, status.HTTP_503_SERVICE_UNAVAILABLE)
        else:  # no connection within the pool's timeout, or it was lost
            # Nor can the audit row be written: the middleware logs it instead.
            audit_context(request).database_unavailable = True
            detail = "the database is not reachable; try again shortly"
            response = _body("database_unavailable", detail, status.HTTP_503_SERVICE_UNAVAILABLE)
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response

    @app.exception_handler(psycopg.DataError)
    async def _bad_value(request: Request, exc: psycopg.DataError) -> JSONResponse:
        detail = "a value the database cannot store (e.g. a NUL character, or out of range)"
        return _body("invalid_value", detail, status.HTTP_400_BAD_REQUEST)

    async def _broker(request: Request, exc: Exception) -> JSONResponse:
        return _body("broker_unavailable", str(exc), status.HTTP_503_SERVICE_UNAVAILABLE)

    for broker_error in (DevicesError, DynsecError):  # a vendor's or the broker's own
        app.add_exception_handler(broker_error, _broker)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, dict) and "code" in detail:
            response = _body(str(detail["code"]), detail.get("detail", ""), exc.status_code)
        else:
            code = "not_found" if exc.status_code == status.HTTP_404_NOT_FOUND else "http_error"
            response = _body(code, detail, exc.status_code)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return _body("invalid_request", errors, status.HTTP_422_UNPROCESSABLE_CONTENT)
