"""A month's billing export and its sign-off, for supervisors and admins.

``GET /api/v1/billing?month=YYYY-MM[&format=json|csv]`` answers the month's
export (``flows.billing_export``) of the caller's scope: a supervisor's
panel (their own and their coordinators' patients), an admin's every
patient. A coordinator gets 403. Once the scope's month is signed off the
answer is the bytes signed, every time; the headers say so
(``X-Billing-Signed``, ``-Signed-At``, ``-Signed-By``, ``-SHA256`` of the
signed JSON). ``X-Content-SHA256`` is the SHA-256 of the body sent.

``POST /api/v1/billing/{month}/sign-off`` signs the caller's scope's month
off (a person's act: the service token gets 403): 201 with the sign-off,
409 ``month_not_over`` before the month has ended everywhere, 409
``already_signed`` the second time. In the same transaction an audit row
``billing.sign_off <month> <scope> sha256:<hex>`` enters the hash chain.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status

from api import audit
from api.accounts import Principal, Role
from api.deps import ConnDep, SupervisorDep, UserIdDep
from flows.billing_export import signoff
from flows.billing_export.calendar import parse_month
from flows.billing_export.evidence import Scope
from flows.billing_export.export import export_document
from flows.billing_export.render import csv_bytes, document_rows
from flows.billing_export.signoff import SignOff

router = APIRouter(prefix="/api/v1/billing", tags=["billing"])

_MONTH = r"^\d{4}-\d{2}$"
MonthPath = Annotated[str, Path(pattern=_MONTH, description="YYYY-MM")]
MonthQuery = Annotated[str, Query(pattern=_MONTH, description="YYYY-MM")]


def scope_of(principal: Principal) -> Scope:
    """An admin's scope is every patient; a supervisor's, their panel."""
    return Scope() if principal.role is Role.ADMIN else Scope(principal.user_id)


@router.get(
    "",
    response_class=Response,
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def billing_export(
    principal: SupervisorDep,
    conn: ConnDep,
    month: MonthQuery,
    format: Literal["json", "csv"] = "json",  # noqa: A002
) -> Response:
    """The month's billing rows of the caller's scope (the signed bytes once signed off)."""
    wanted = parse_month(month)
    scope = scope_of(principal)
    frozen = signoff.signed(conn, month=wanted, scope=scope)
    headers = {"X-Billing-Signed": "true" if frozen else "false"}
    if frozen is not None:
        document, done = frozen.document, frozen.sign_off
        headers |= {
            "X-Billing-Signed-At": done.signed_at.isoformat(),
            "X-Billing-Signed-By": done.signed_by_name,
            "X-Billing-SHA256": done.sha256,
        }
    else:
        document, _, _ = export_document(conn, month=wanted, scope=scope)
    if format == "csv":
        body, media = csv_bytes(document_rows(document)), "text/csv; charset=utf-8"
    else:
        body, media = document, "application/json"
    headers["X-Content-SHA256"] = hashlib.sha256(body).hexdigest()
    return Response(content=body, media_type=media, headers=headers)


@router.post("/{month}/sign-off", status_code=status.HTTP_201_CREATED, response_model=SignOff)
def sign_off_month(
    month: MonthPath,
    principal: SupervisorDep,
    user: UserIdDep,
    conn: ConnDep,
    request: Request,
) -> SignOff:
    """Freeze the caller's scope's export of the month; its hash enters the audit chain."""
    now = datetime.now(UTC)
    done = signoff.sign_off(
        conn, month=parse_month(month), scope=scope_of(principal), signer=user, now=now
    )
    audit.record_event(
        conn,
        request=request,
        principal=principal,
        action=f"billing.sign_off {done.month} {done.scope} sha256:{done.sha256}",
        patient_id=None,
        outcome=status.HTTP_201_CREATED,
        at=now,
    )
    return done
