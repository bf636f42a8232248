"""How library code tells the caller what is happening, without printing anything itself."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """Receives progress and warnings from a build; the CLI decides how to show them."""

    def warn(self, message: str) -> None:
        """Something the user must know (engine fallback, skipped work)."""
        ...

    def start(self, total: int) -> None:
        """Synthesis is about to run *total* requests (cached ones included)."""
        ...

    def step(self, segment_id: str, cached: bool) -> None:
        """One request finished, synthesized or taken from the cache."""
        ...

    def stage(self, name: str) -> None:
        """A pipeline stage begins (``mix``, ``encode``, ...)."""
        ...

    def note(self, message: str) -> None:
        """Detail for verbose output (retries, timings)."""
        ...


class Silent:
    """A reporter that ignores everything."""

    def warn(self, message: str) -> None:
        """Ignore."""

    def start(self, total: int) -> None:
        """Ignore."""

    def step(self, segment_id: str, cached: bool) -> None:
        """Ignore."""

    def stage(self, name: str) -> None:
        """Ignore."""

    def note(self, message: str) -> None:
        """Ignore."""
