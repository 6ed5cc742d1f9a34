"""Withings' ``status`` values, by family, and the hub's exception for each.

Withings answers HTTP 200 even to a failed call; the JSON's ``status`` says
how it went. It documents families of statuses, not each one, in the
"Response status" table of its API reference
(https://developer.withings.com/api-reference/#tag/response_status; the same
table is in the OpenAPI document behind that page). :data:`TABLE` is that
table; what the families mean, in Withings' words: *Timeout* "please retry",
*Authentication failed* "check if your tokens are correct", *Invalid params*
"check your tokens and your params", *Not implemented* "the service does not
exist", *Unauthorized* "you are not allowed to call this service", *An error
occurred* "if the error persists please contact us".

>>> family(601), family(401), family(503), family(2554), family(2552), family(77777)
(<Family.TOO_MANY_REQUESTS: 'too many requests'>, <Family.AUTHENTICATION_FAILED: \
'authentication failed'>, <Family.INVALID_PARAMS: 'invalid params'>, <Family.NOT_IMPLEMENTED: \
'not implemented'>, <Family.ERROR_OCCURRED: 'an error occurred'>, None)
>>> status_error(601, token_call=False).__class__.__name__
'WithingsRateLimitedError'
>>> status_error(401, token_call=False).__class__.__name__
'WithingsExpiredTokenError'
>>> status_error(503, token_call=True).__class__.__name__   # "Invalid Params: invalid code"
'WithingsAuthError'
>>> status_error(2552, token_call=True).__class__.__name__  # their error: the grant may be fine
'WithingsUnavailableError'
"""

from __future__ import annotations

from enum import StrEnum

from devices.withings.exceptions import (
    WithingsAuthError,
    WithingsError,
    WithingsExpiredTokenError,
    WithingsRateLimitedError,
    WithingsUnavailableError,
)


class Family(StrEnum):
    AUTHENTICATION_FAILED = "authentication failed"
    INVALID_PARAMS = "invalid params"
    UNAUTHORIZED = "unauthorized"
    NOT_IMPLEMENTED = "not implemented"
    TIMEOUT = "timeout"
    BAD_STATE = "bad state"
    TOO_MANY_REQUESTS = "too many requests"
    ERROR_OCCURRED = "an error occurred"


_AF, _IP, _UN, _ER = (
    Family.AUTHENTICATION_FAILED,
    Family.INVALID_PARAMS,
    Family.UNAUTHORIZED,
    Family.ERROR_OCCURRED,
)

#: Withings' "Response status" table, row by row: (first, last, family).
TABLE: tuple[tuple[int, int, Family], ...] = (
    (100, 102, _AF), (200, 200, _AF), (201, 213, _IP), (214, 214, _UN), (215, 215, _ER),
    (216, 218, _IP), (219, 219, _ER), (220, 221, _IP), (222, 222, _ER), (223, 223, _IP),
    (224, 224, _ER), (225, 225, _IP), (226, 226, _ER), (227, 230, _IP), (231, 233, _ER),
    (234, 236, _IP), (237, 237, _ER), (238, 238, _IP), (240, 252, _IP), (253, 253, _ER),
    (254, 254, _IP), (255, 259, _ER), (260, 267, _IP), (268, 270, _ER), (271, 272, _IP),
    (273, 274, _ER), (275, 276, _IP), (277, 277, _UN), (278, 282, _ER), (283, 288, _IP),
    (289, 289, _ER), (290, 290, _IP), (291, 292, _ER), (293, 295, _IP), (296, 296, _ER),
    (297, 297, _IP), (298, 298, _ER), (300, 304, _IP), (305, 320, _ER), (321, 321, _IP),
    (322, 322, _ER), (323, 353, _IP), (370, 375, _ER), (380, 382, _IP), (383, 383, _ER),
    (391, 391, _ER), (400, 400, _IP), (401, 401, _AF), (402, 402, _ER), (501, 511, _IP),
    (516, 521, _ER), (522, 522, Family.TIMEOUT), (523, 523, _IP),
    (524, 524, Family.BAD_STATE), (525, 531, _ER), (532, 532, _IP), (533, 533, _ER),
    (601, 601, Family.TOO_MANY_REQUESTS), (602, 602, _ER), (700, 700, _ER),
    (1051, 1054, _ER), (2551, 2552, _ER), (2553, 2553, _UN),
    (2554, 2554, Family.NOT_IMPLEMENTED), (2555, 2555, _UN), (2556, 2559, _ER),
    (3000, 3016, _ER), (3017, 3019, _IP), (3020, 3024, _ER), (5000, 5006, _ER),
    (6000, 6000, _ER), (6010, 6011, _ER), (9000, 9000, _ER), (10000, 10000, _ER),
)  # fmt: skip

#: Status 601: the limit is 120 requests a minute for the whole application;
#: wait that minute before asking again.
RATE_LIMIT_WAIT_S = 60
#: Refusals of a token call that mean the code or refresh token is no good:
#: Withings answers a used or unknown one with 503 "Invalid Params".
_GRANT_REFUSED = frozenset({Family.AUTHENTICATION_FAILED, Family.INVALID_PARAMS})


def family(status: int) -> Family | None:
    """The family Withings documents ``status`` in (None: a status it does not list)."""
    for first, last, found in TABLE:
        if first <= status <= last:
            return found
    return None


def status_error(status: int, *, token_call: bool) -> WithingsError:
    """The hub's exception for a non-zero Withings ``status``.

    A token call (``requesttoken``) refused as bad authentication or bad
    params means the grant is gone; a data call refused as bad authentication
    means the access token is (refresh and ask again). Everything else,
    including a status Withings does not list, is a failure to try again
    later, never a reason to end a patient's connection.
    """
    found = family(status)
    if found is Family.TOO_MANY_REQUESTS:
        return WithingsRateLimitedError(RATE_LIMIT_WAIT_S)
    if token_call and found in _GRANT_REFUSED:
        return WithingsAuthError(f"Withings refused the grant (status {status})")
    if not token_call and found is Family.AUTHENTICATION_FAILED:
        return WithingsExpiredTokenError(f"access token no longer valid (status {status})")
    return WithingsUnavailableError(f"Withings answered status {status} ({found or 'unlisted'})")
