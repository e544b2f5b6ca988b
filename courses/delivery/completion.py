"""Completion rules: pure functions over plain values (no database, no Flask).

* text and document lessons are completed when opened;
* a video is completed when the learner has *watched* at least 90% of it: both the furthest
  position reached and the seconds actually played must reach 90% of the length, so skipping to
  the end, or replaying the first minute many times, does not count;
* a quiz is completed when an attempt passes; a practical task when a grader marks it passed;
  an external activity when a ``completed`` or ``passed`` statement arrives for it;
* a course is completed when every *required* lesson is completed.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Share of a video that must be watched to complete it.
VIDEO_COMPLETION_SHARE = 0.9
#: Kinds completed by opening them.
COMPLETED_ON_VIEW = frozenset({"text", "document"})
#: A video may be played at up to this speed; reports claiming more are cut down to it.
MAX_PLAYBACK_RATE = 2.0
#: Seconds of slack allowed between what the wall clock says and what the player reports.
REPORT_SLACK_SECONDS = 5.0


@dataclass(frozen=True)
class WatchState:
    """What the platform knows about one learner's viewing of one video."""

    #: furthest position reached, seconds from the start
    furthest: float = 0.0
    #: seconds of video actually played (replays count again)
    watched: float = 0.0
    #: the video's length: the lesson's authored ``duration_seconds``, else the player's first report
    #: (0 when unknown)
    duration: float = 0.0


def _finite(x) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise ValueError("not a number") from None
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError("not a finite number")
    return x


def accept_watch_report(state: WatchState, *, position: float, watched_delta: float, duration: float | None,
                        seconds_since_last_report: float | None) -> tuple[WatchState, float]:
    """Fold a player report into ``state``; returns the new state and the seconds credited.

    The player says how many seconds it played since its last report. The server never credits
    more than the wall-clock time since the previous report allows (at :data:`MAX_PLAYBACK_RATE`,
    plus :data:`REPORT_SLACK_SECONDS`), so a tampered report cannot buy study time.
    Raises ``ValueError`` for negative or non-numeric values.
    """
    position = _finite(position)
    watched_delta = _finite(watched_delta)
    if position < 0 or watched_delta < 0:
        raise ValueError("position and watched seconds must not be negative")
    length = state.duration
    if duration is not None:
        duration = _finite(duration)
        if duration < 0:
            raise ValueError("duration must not be negative")
        if duration > 0 and length <= 0:
            # The player's word counts only while the length is unknown (the lesson declares none
            # and no earlier report gave one): a client cannot shorten a video to complete it.
            length = duration
    if seconds_since_last_report is not None:
        since = max(seconds_since_last_report, 0.0)
        # The slack absorbs clock jitter between reports; it never exceeds the time that passed,
        # so reports sent together (or replayed) share one window instead of each adding slack.
        allowed = since * MAX_PLAYBACK_RATE + min(REPORT_SLACK_SECONDS, since)
        watched_delta = min(watched_delta, allowed)
    if length > 0:
        position = min(position, length)
        # Nobody watches more than the whole video twice over in one report.
        watched_delta = min(watched_delta, length * 2)
    furthest = max(state.furthest, position)
    return WatchState(furthest=furthest, watched=state.watched + watched_delta, duration=length), watched_delta


def video_progress(state: WatchState) -> int:
    """Percent (0-100, integer) of the video watched: the lesser of furthest position and seconds played."""
    if state.duration <= 0:
        return 0
    share = min(state.furthest, state.watched) / state.duration
    return max(0, min(100, int(share * 100 + 1e-9)))


def video_completed(state: WatchState) -> bool:
    """Whether the video counts as watched (:data:`VIDEO_COMPLETION_SHARE` of it)."""
    if state.duration <= 0:
        return False
    return min(state.furthest, state.watched) >= VIDEO_COMPLETION_SHARE * state.duration - 1e-9


def course_progress(required_lesson_ids, completed_lesson_ids) -> int:
    """Percent (0-100) of the required lessons completed."""
    required = set(required_lesson_ids)
    if not required:
        return 0
    return int(100 * len(required & set(completed_lesson_ids)) / len(required))


def course_completed(required_lesson_ids, completed_lesson_ids) -> bool:
    """A course is completed when it has required lessons and all of them are completed."""
    required = set(required_lesson_ids)
    return bool(required) and required <= set(completed_lesson_ids)


def next_and_previous(ordered_ids: list, current) -> tuple[object | None, object | None]:
    """The lessons before and after ``current`` in syllabus order."""
    try:
        i = ordered_ids.index(current)
    except ValueError:
        return None, None
    prev = ordered_ids[i - 1] if i > 0 else None
    nxt = ordered_ids[i + 1] if i + 1 < len(ordered_ids) else None
    return prev, nxt


def resume_lesson(ordered_ids: list, completed_ids, last_lesson_id=None):
    """Where to resume: the last lesson opened if it is not completed, else the first lesson not yet
    completed after it (or from the start), else the last lesson opened, else the first lesson."""
    if not ordered_ids:
        return None
    done = set(completed_ids)
    if last_lesson_id in ordered_ids and last_lesson_id not in done:
        return last_lesson_id
    start = ordered_ids.index(last_lesson_id) + 1 if last_lesson_id in ordered_ids else 0
    for lid in ordered_ids[start:] + ordered_ids[:start]:
        if lid not in done:
            return lid
    return last_lesson_id if last_lesson_id in ordered_ids else ordered_ids[0]
