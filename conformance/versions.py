"""The Graph API versions the suite knows: one :class:`Version` type used everywhere.

A ``Version`` is a ``str`` (``"beta"``, ``"v1.0"``): it compares equal to the plain string, so
dictionaries keyed by either agree, and it prints and serialises as the URL segment Graph uses.
"""

from __future__ import annotations

from enum import StrEnum


class Version(StrEnum):
    """A Graph API version, spelled as its URL segment."""

    BETA = "beta"
    V1 = "v1.0"

    @classmethod
    def of_segment(cls, segment: str) -> Version | None:
        """The version a URL path segment names (Graph reads it case-insensitively), or None."""
        try:
            return cls(segment.lower())
        except ValueError:
            return None


ALL_VERSIONS: tuple[Version, ...] = tuple(Version)
