"""The simulators' side of the hub's HTTP API: a client protocol and checked requests.

An ``httpx.Client`` or a test client like one (:class:`ApiClient`) is enough.
A request that fails, or answers anything but the status it should, is a
:class:`~simulators.exceptions.ProvisioningError` naming the route and the
answer; a JSON answer that is not what the route promises is one too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

from simulators.exceptions import ProvisioningError


class ApiResponse(Protocol):
    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class ApiClient(Protocol):
    """What provisioning needs of an HTTP client: an ``httpx.Client`` or a test client like one."""

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResponse: ...

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> ApiResponse: ...


@contextmanager
def session(api_url: str, client: ApiClient | None, timeout_s: float) -> Iterator[ApiClient]:
    """``client`` if given, else one of our own for ``api_url``, closed after."""
    if client is not None:
        yield client
        return
    with httpx.Client(base_url=api_url, timeout=timeout_s) as own:
        yield own


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_json(
    client: ApiClient,
    path: str,
    body: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    *,
    form: Mapping[str, str] | None = None,
    expect: int = httpx.codes.CREATED,
) -> dict[str, Any]:
    """POST ``body`` as JSON (or ``form`` as a form) and return the JSON object answered."""
    try:
        if form is not None:
            response = client.post(path, data=form, headers=headers)
        else:
            response = client.post(path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        msg = f"POST {path} failed: {type(exc).__name__}: {exc}"
        raise ProvisioningError(msg) from exc
    data = _answer("POST", path, response, expect)
    if not isinstance(data, dict):
        msg = f"POST {path} answered {expect} with a JSON {type(data).__name__}, not an object"
        raise ProvisioningError(msg, status_code=response.status_code)
    return data


def post_empty(client: ApiClient, path: str, headers: Mapping[str, str]) -> int:
    """POST nothing (a logout, say) and return the status answered, whatever it is."""
    try:
        return client.post(path, headers=headers).status_code
    except httpx.HTTPError as exc:
        msg = f"POST {path} failed: {type(exc).__name__}: {exc}"
        raise ProvisioningError(msg) from exc


def get_list(client: ApiClient, path: str, headers: Mapping[str, str]) -> list[dict[str, Any]]:
    """GET a route that answers a JSON array of objects."""
    try:
        response = client.get(path, headers=headers)
    except httpx.HTTPError as exc:
        msg = f"GET {path} failed: {type(exc).__name__}: {exc}"
        raise ProvisioningError(msg) from exc
    data = _answer("GET", path, response, httpx.codes.OK)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        msg = f"GET {path} answered something else than a JSON array of objects"
        raise ProvisioningError(msg, status_code=response.status_code)
    return data


def field(data: Mapping[str, Any], name: str, path: str) -> str:
    """The non-empty string ``data[name]`` of an answer from ``path``."""
    value = data.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        msg = f"{path} answered without {name!r}"
        raise ProvisioningError(msg)
    return value


def _answer(method: str, path: str, response: ApiResponse, expect: int) -> Any:
    if response.status_code != expect:
        msg = f"{method} {path} answered {response.status_code}: {response.text[:300]}"
        raise ProvisioningError(msg, status_code=response.status_code)
    try:
        return response.json()
    except ValueError as exc:
        msg = f"{method} {path} answered {expect} without a JSON body"
        raise ProvisioningError(msg, status_code=response.status_code) from exc
