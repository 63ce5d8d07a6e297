"""next_delay: exponential, jittered, capped at an hour, never sooner than Retry-After."""

from __future__ import annotations

from datetime import timedelta

import pytest

from convhub.delivery.backoff import MAX_DELAY, RETRY_WINDOW, next_delay

# The delivery client and its parts against loopback servers: no database.
pytestmark = pytest.mark.database_free

SAMPLES = 200


def delays(attempt: int, retry_after: float | None = None) -> list[float]:
    return [next_delay(attempt, retry_after=retry_after) for _ in range(SAMPLES)]


class TestNextDelay:
    def test_first_retry_after_about_a_second(self) -> None:
        assert all(1.0 <= delay <= 2.0 for delay in delays(1))

    @pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8, 11])
    def test_grows_exponentially(self, attempt: int) -> None:
        low, high = 2.0 ** (attempt - 1), 2.0**attempt
        assert all(low <= delay <= high for delay in delays(attempt))

    def test_each_attempt_waits_longer_than_the_one_before(self) -> None:
        for attempt in range(1, 11):
            assert max(delays(attempt)) <= min(delays(attempt + 1))

    def test_jittered(self) -> None:
        assert len(set(delays(4))) > SAMPLES // 2

    @pytest.mark.parametrize("attempt", [12, 20, 100, 10_000])
    def test_capped_at_an_hour(self, attempt: int) -> None:
        assert MAX_DELAY == 3600
        assert all(1800 <= delay <= 3600 for delay in delays(attempt))

    def test_attempt_below_one_counts_as_one(self) -> None:
        assert all(1.0 <= next_delay(0, retry_after=None) <= 2.0 for _ in range(20))

    def test_never_sooner_than_retry_after(self) -> None:
        assert all(delay >= 120 for delay in delays(1, retry_after=120))

    def test_later_backoff_beats_a_short_retry_after(self) -> None:
        assert all(delay >= 512 for delay in delays(10, retry_after=5))

    def test_retry_after_capped_at_an_hour(self) -> None:
        assert delays(1, retry_after=86_400) == [MAX_DELAY] * SAMPLES

    def test_negative_retry_after_ignored(self) -> None:
        assert all(1.0 <= delay <= 2.0 for delay in delays(1, retry_after=-30))

    def test_scaled(self) -> None:
        assert all(
            0.001 <= next_delay(1, retry_after=None, scale=0.001) <= 0.002 for _ in range(20)
        )
        assert next_delay(1, retry_after=100, scale=0.01) == pytest.approx(1.0)

    def test_retry_window_is_a_day(self) -> None:
        assert RETRY_WINDOW == timedelta(hours=24)
