"""Friendly checks of task options: each refuses a bad value with a message that says what fits."""

from __future__ import annotations

from playml.errors import InputError, unknown_name

__all__ = ["check_choice", "check_model", "check_unit", "check_count"]


def check_choice(kind: str, value, allowed) -> None:
    """Refuse an option value that is not in ``allowed`` with a friendly message."""
    if value not in allowed:
        raise InputError(f"{kind} must be one of {', '.join(map(repr, allowed))} (got {value!r}).")


def check_model(kind: str, name, known) -> None:
    """Refuse a model name playml does not know, suggesting the closest ones."""
    if name not in known:
        raise unknown_name(kind, name, known)


def check_unit(kind: str, value) -> float:
    """A confidence threshold between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InputError(f"{kind} must be a number from 0 to 1 (got {value!r}).")
    return float(value)


def check_count(kind: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{kind} must be a whole number ≥ 1 (got {value!r}).")
    return value
