"""Errors meant for people: each says what is wrong and, where it can, what would be right."""

from __future__ import annotations


class InferonomicsError(Exception):
    """Base of every error the product raises on purpose (the CLI turns these into exit code 2)."""


class UnknownNameError(InferonomicsError, KeyError):
    """A model, chip, precision or price sheet that is not in the catalog."""

    def __init__(self, kind: str, name: str, suggestions: list[str]):
        self.kind = kind
        self.name = name
        self.suggestions = suggestions
        hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class ConfigError(InferonomicsError, ValueError):
    """A model config, hardware file or price file that is malformed (names the field)."""


class InvalidInputError(InferonomicsError, ValueError):
    """An argument out of range or inconsistent with the others (names the argument)."""


class OverBudgetError(InvalidInputError):
    """Work sized above a budget (wall time, memory, replicas): names the limit and the knob that sets it
    (`field`, the request field or CLI flag, where there is one)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DoesNotFitError(InferonomicsError):
    """A deployment whose weights, KV cache and reserve exceed the memory it has."""

    def __init__(self, message: str, required_bytes: float, available_bytes: float):
        self.required_bytes = required_bytes
        self.available_bytes = available_bytes
        super().__init__(message)


def excerpt(value: object, max_chars: int = 80) -> str:
    """`str(value)` cut to at most `max_chars` characters (an error never quotes a whole 20 MB field)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= max_chars:
        return text
    keep = max(max_chars - 30, 10)
    return f"{text[:keep]}... ({len(text):,} characters)"
