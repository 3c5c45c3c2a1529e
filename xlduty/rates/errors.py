"""Why a refresh stopped. Every one of these leaves the active tables exactly as they were."""

from __future__ import annotations

from xlduty.core.errors import DataError


class RefreshError(DataError):
    """A refresh could not complete: nothing was switched, the previous tables stay in use."""


class SourceError(RefreshError):
    """The official site (or the given source) could not be read: network, HTTP status, size, host policy."""


class PageError(RefreshError):
    """A page arrived but is not in the expected format: encoding, truncation, table layout."""


class SanityError(RefreshError):
    """The new tables differ from the current ones more than a real update would (or are older)."""


class BusyError(RefreshError):
    """Another refresh (or use/rollback) holds the store lock."""


class StoreError(DataError):
    """The version store cannot do what was asked: unknown version, nothing to roll back to, damaged files."""
