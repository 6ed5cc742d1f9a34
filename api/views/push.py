"""Web Push: the hub's VAPID public key, and the caller's browser subscriptions.

The dashboard subscribes with ``PushManager.subscribe({applicationServerKey})``
and posts ``PushSubscription.toJSON()`` here; pushes then carry an alert id
only, and the dashboard reads the alert over this API.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from alerts import push
from alerts.exceptions import InvalidSubscriptionError
from alerts.vapid import ensure_vapid_keys
from api.accounts import Principal
from api.deps import ConnDep, CurrentUserDep, SettingsDep
from api.exceptions import BadRequestError, ForbiddenError
from hub.exceptions import NotFoundError

router = APIRouter(prefix="/api/v1/push", tags=["push"])


class SubscriptionKeysIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=100)


class SubscriptionIn(BaseModel):
    """``PushSubscription.toJSON()`` as the browser gives it."""

    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=1, max_length=2048)
    keys: SubscriptionKeysIn


class SubscriptionOut(BaseModel):
    id: int


class VapidPublicKeyOut(BaseModel):
    #: The uncompressed P-256 point, base64url: ``applicationServerKey``.
    application_server_key: str


def _user_id(principal: Principal) -> UUID:
    if principal.user_id is None:
        raise ForbiddenError("forbidden", "push subscriptions belong to a user account")
    return principal.user_id


@router.get("/vapid-public-key", response_model=VapidPublicKeyOut)
def vapid_public_key(settings: SettingsDep, principal: CurrentUserDep) -> VapidPublicKeyOut:
    return VapidPublicKeyOut(
        application_server_key=ensure_vapid_keys(settings).application_server_key
    )


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut)
def subscribe(
    body: SubscriptionIn, conn: ConnDep, settings: SettingsDep, principal: CurrentUserDep
) -> SubscriptionOut:
    """Register the caller's browser; the same endpoint again updates its row."""
    user_id = _user_id(principal)
    try:
        push.check_subscription(
            endpoint=body.endpoint,
            p256dh=body.keys.p256dh,
            auth=body.keys.auth,
            allow_http=settings.push_allow_http_endpoints,
        )
    except InvalidSubscriptionError as exc:
        raise BadRequestError("invalid_subscription", str(exc)) from exc
    subscription_id = push.add_subscription(
        conn,
        user_id=user_id,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        now=datetime.now(UTC),
    )
    return SubscriptionOut(id=subscription_id)


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def unsubscribe(
    subscription_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    conn: ConnDep,
    principal: CurrentUserDep,
) -> Response:
    """Forget one of the caller's subscriptions (404 for anyone else's)."""
    if not push.remove_subscription(
        conn, subscription_id=subscription_id, user_id=_user_id(principal)
    ):
        raise NotFoundError(f"push subscription {subscription_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
