"""Errors that reach users: each names the field at fault, so a cell, stderr or a dialog can say it."""

from __future__ import annotations


class XlDutyError(Exception):
    """Base of every error xlduty raises on purpose."""


class InputError(XlDutyError, ValueError):
    """Bad or insufficient input. ``field`` is a path such as ``lines[2].hs_code``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def within(self, prefix: str) -> InputError:
        """The same error with its field placed under ``prefix`` (``[3]`` for batch item 3)."""
        field = f"{prefix}.{self.field}" if self.field and not self.field.startswith("[") else (
            f"{prefix}{self.field}")
        err = type(self)(field, self.message)
        err.__cause__ = self.__cause__
        return err


class RateParseError(XlDutyError, ValueError):
    """A rate text that matches no notation the tariff uses."""


class DataError(XlDutyError):
    """Bundled or refreshed data is missing or inconsistent (not the user's input)."""
