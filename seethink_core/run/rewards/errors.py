"""The exceptions of the reward layer."""

from __future__ import annotations

from seethink_core.errors import SeethinkError


class RewardError(SeethinkError):
    """A reward could not be built or its worker could not be started."""


class RewardFailuresExceeded(RewardError):
    """A reward failed on more of a phase's samples than the phase's ``max_reward_failures`` allows."""
