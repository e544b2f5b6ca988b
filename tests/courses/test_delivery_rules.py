"""Completion rules, watch reports and study-hour arithmetic (pure functions)."""
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from courses.delivery.completion import (WatchState, accept_watch_report, course_completed, course_progress,
                                         next_and_previous, resume_lesson, video_completed, video_progress)
from lms.records.durations import format_clock, format_duration, parse_duration, study_hours


def test_video_needs_ninety_percent_both_reached_and_played():
    state = WatchState(duration=100)
    state, credited = accept_watch_report(state, position=95, watched_delta=10, duration=100,
                                          seconds_since_last_report=None)
    assert credited == 10 and not video_completed(state)  # skipped to the end
    assert video_progress(state) == 10
    state = WatchState(furthest=20, watched=200, duration=100)
    assert not video_completed(state)  # replayed the start many times
    assert video_completed(WatchState(furthest=90, watched=90, duration=100))
    assert not video_completed(WatchState(furthest=89.9, watched=95, duration=100))


def test_watch_reports_cannot_claim_more_than_the_wall_clock_allows():
    state, credited = accept_watch_report(WatchState(duration=600), position=300, watched_delta=300, duration=600,
                                          seconds_since_last_report=10)
    assert credited == 25  # 10 s at up to 2x speed plus 5 s slack
    assert state.watched == 25 and state.furthest == 300


def test_watch_reports_reject_nonsense():
    for bad in ({"position": -1, "watched_delta": 0}, {"position": 1, "watched_delta": float("nan")},
                {"position": "x", "watched_delta": 1}):
        with pytest.raises(ValueError):
            accept_watch_report(WatchState(), duration=10, seconds_since_last_report=1, **bad)


def test_position_is_capped_at_the_length_and_length_is_kept():
    state, _ = accept_watch_report(WatchState(duration=50), position=80, watched_delta=1, duration=None,
                                   seconds_since_last_report=None)
    assert state.furthest == 50 and state.duration == 50


@given(st.floats(0, 1e4), st.floats(0, 1e4), st.floats(1, 1e4))
def test_video_progress_is_a_percent(furthest, watched, duration):
    p = video_progress(WatchState(furthest, watched, duration))
    assert 0 <= p <= 100 and isinstance(p, int)


def test_course_completion_needs_every_required_lesson():
    assert not course_completed([1, 2, 3], [1, 2])
    assert course_completed([1, 2, 3], [1, 2, 3, 9])
    assert not course_completed([], [1])
    assert course_progress([1, 2, 3, 4], [1, 2]) == 50


def test_next_previous_and_resume():
    order = [5, 6, 7, 8]
    assert next_and_previous(order, 5) == (None, 6)
    assert next_and_previous(order, 8) == (7, None)
    assert resume_lesson(order, set(), None) == 5
    assert resume_lesson(order, {5}, 6) == 6
    assert resume_lesson(order, {5, 6}, 6) == 7
    assert resume_lesson(order, {7, 8}, 8) == 5
    assert resume_lesson(order, {5, 6, 7, 8}, 7) == 7
    assert resume_lesson([], set(), None) is None


def test_iso_durations_round_trip():
    assert parse_duration("PT1H2M3.5S") == 3723.5
    assert parse_duration("P1DT1S") == 86401
    assert parse_duration("PT0S") == 0
    assert format_duration(3723.5) == "PT1H2M3.50S"
    assert format_duration(0) == "PT0S"
    assert format_duration(60) == "PT1M"
    for bad in ("", "P", "PT", "1H", "PTxS"):
        with pytest.raises(ValueError):
            parse_duration(bad)


@given(st.floats(0, 1e7))
def test_format_then_parse_keeps_the_seconds(seconds):
    assert abs(parse_duration(format_duration(seconds)) - seconds) <= 0.005 + 1e-6


def test_study_hours_round_down_to_a_tenth():
    assert study_hours(45 * 60) == Decimal("1.0")
    assert study_hours(45 * 60 - 1) == Decimal("0.9")
    assert study_hours(3600, minutes_per_hour=60) == Decimal("1.0")
    assert format_clock(3725) == "1:02:05" and format_clock(65) == "1:05"
