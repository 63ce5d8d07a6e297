"""When to try a failed delivery again (DECISIONS §8): exponential backoff with jitter, for up to
:data:`RETRY_WINDOW`.

The delay before retry ``n`` is ``2**(n-1)`` seconds plus a random share of as much again ("equal
jitter"), each half capped at 30 minutes: about 1-2 s first, then 2-4 s, 4-8 s, ..., and from the
12th retry on 30-60 minutes. The random half spreads the retries of many deliveries that failed
together (a receiver that was down), the fixed half keeps the first retries from being almost
immediate, as tenacity's ``wait_random_exponential`` alone ("full jitter") would allow. A
``Retry-After`` from the receiver is a floor, itself capped at an hour.
"""

from __future__ import annotations

from datetime import timedelta

from tenacity import RetryCallState, Retrying, wait_exponential, wait_random_exponential

RETRY_WINDOW = timedelta(hours=24)
MAX_DELAY = 3600.0

_HALF = MAX_DELAY / 2
_WAIT = wait_exponential(multiplier=1, max=_HALF) + wait_random_exponential(multiplier=1, max=_HALF)


def next_delay(attempt: int, *, retry_after: float | None, scale: float = 1.0) -> float:
    """Seconds to wait after the ``attempt``-th failed attempt (1 after the first failure),
    multiplied by ``scale`` (the ``retry_scale`` setting: tests shorten time with it)."""
    # tenacity's wait strategies read the attempt number from a RetryCallState.
    state = RetryCallState(retry_object=Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = max(1, attempt)
    delay = float(_WAIT(state))
    if retry_after is not None:
        delay = max(delay, min(max(retry_after, 0.0), MAX_DELAY))
    return delay * scale
