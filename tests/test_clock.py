"""The one clock: the shift that CI's second run uses, and the emulators' default world end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse import clock
from pulse.emulators.jira.org import OrgSpec
from pulse.emulators.trello import TrelloSpec


def test_the_shift_moves_now_and_the_emulators_worlds_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(clock.SHIFT_ENV, raising=False)
    plain = clock.now()
    monkeypatch.setenv(clock.SHIFT_ENV, "400")
    shifted = clock.now()
    assert timedelta(days=400) <= shifted - plain < timedelta(days=400, seconds=5)
    assert shifted.tzinfo is UTC
    end = clock.last_noon()
    assert (end.hour, end.minute, end.second) == (12, 0, 0)
    assert timedelta(0) <= clock.now() - end < timedelta(days=1)
    assert OrgSpec().now == end and TrelloSpec().now == end
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    assert clock.to_wall(moment) == moment - timedelta(days=400)
    assert clock.from_wall(clock.to_wall(moment)) == moment


def test_a_shift_that_is_not_whole_days_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clock.SHIFT_ENV, "1.5")
    with pytest.raises(ValueError, match=r"PULSE_CLOCK_SHIFT_DAYS must be a whole number.*'1\.5'"):
        clock.now()
