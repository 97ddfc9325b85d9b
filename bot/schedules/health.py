"""Whether a schedule is healthy, and the notices that say so: one when it is flagged, one when
it recovers — never one per failed post.

A schedule is flagged at once when its channel is gone or the bot lacks a permission (nothing
will work until an admin acts), and after ``failures_to_flag`` failed posts in a row otherwise
(one 500 is not news). A pure state machine; the flag itself is the store's (``flags``), which
the scheduler restores at start, so a restart neither forgets a flag nor announces it again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True)
class HealthState:
    schedule_id: str
    failures: int = 0
    """Failed posts in a row."""
    flagged: str | None = None
    """Why the schedule is flagged (None: healthy)."""


@dataclass(frozen=True)
class Notice:
    schedule_id: str
    kind: Literal["flagged", "recovered"]
    reason: str

    def text(self, describe: str) -> str:
        if self.kind == "flagged":
            return (
                f"Schedule {self.schedule_id} ({describe}) is failing: {self.reason}. "
                "Each later slot tries again; fix the cause, or "
                f"/schedule remove {self.schedule_id}. No more notices until it recovers."
            )
        return f"Schedule {self.schedule_id} ({describe}) works again: {self.reason}."


class Health:
    def __init__(self, failures_to_flag: int = 3) -> None:
        self.failures_to_flag = failures_to_flag
        self.states: dict[str, HealthState] = {}

    def restore(self, states: list[HealthState]) -> None:
        self.states.update({state.schedule_id: state for state in states})

    def get(self, schedule_id: str) -> HealthState:
        return self.states.get(schedule_id) or HealthState(schedule_id)

    def flagged(self, schedule_id: str) -> str | None:
        return self.get(schedule_id).flagged

    def failed(
        self, schedule_id: str, reason: str, *, permanent: bool
    ) -> tuple[HealthState, Notice | None]:
        """A post failed; ``permanent``: the channel is gone or a permission is missing."""
        state = self.get(schedule_id)
        failures = state.failures + 1
        flag = state.flagged
        notice = None
        if flag is None and (permanent or failures >= self.failures_to_flag):
            flag = reason if permanent else f"{failures} posts in a row failed, last: {reason}"
            notice = Notice(schedule_id, "flagged", flag)
        new = replace(state, failures=failures, flagged=flag)
        self.states[schedule_id] = new
        return new, notice

    def succeeded(self, schedule_id: str) -> tuple[HealthState, Notice | None]:
        state = self.get(schedule_id)
        notice = None
        if state.flagged is not None:
            notice = Notice(schedule_id, "recovered", "a post went out")
        new = HealthState(schedule_id)
        self.states[schedule_id] = new
        return new, notice
