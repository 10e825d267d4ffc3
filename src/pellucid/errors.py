"""Errors that reach the user. Each one explains itself through ``diagnostics()``."""

from __future__ import annotations


class PellucidError(Exception):
    """Base class: a problem the user can act on, shown without a traceback (exit 2)."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def diagnostics(self) -> str:
        text = f"error: {self}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class InputError(PellucidError):
    """A path that does not exist or cannot be read."""


class PolicyError(PellucidError):
    """A policy or baseline file that cannot be used as written."""


class UsageError(PellucidError):
    """Options that contradict each other or name something unknown."""
