"""How library code tells the caller what is happening, without printing anything itself.

A build reports stages (``load``, ``synthesize``, ``mix``, ``encode``, ``publish``), each with
the number of items it will go through (requests, sections), and every item as it is done,
made now or taken from the cache. :class:`StageClock` passes these events on and times the
stages from them: the build report's :class:`Timings`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from podcast.audio.encode import EncodeStats


class Reporter(Protocol):
    """Receives progress and warnings from a build; the CLI decides how to show them."""

    def warn(self, message: str) -> None:
        """Something the user must know (engine fallback, skipped work)."""
        ...

    def stage(self, name: str, total: int = 0) -> None:
        """A pipeline stage begins; it will go through *total* items (0: it counts none)."""
        ...

    def advance(self, item: str, cached: bool = False) -> None:
        """One item of the current stage is done: made now, or taken from the cache (*cached*)."""
        ...

    def note(self, message: str) -> None:
        """Detail for verbose output (retries, timings)."""
        ...


class Silent:
    """A reporter that ignores everything."""

    def warn(self, message: str) -> None:
        """Ignore."""

    def stage(self, name: str, total: int = 0) -> None:
        """Ignore."""

    def advance(self, item: str, cached: bool = False) -> None:
        """Ignore."""

    def note(self, message: str) -> None:
        """Ignore."""


@dataclass(frozen=True)
class StageTiming:
    """One stage of a build as it ran."""

    name: str
    seconds: float
    """Wall time, from this stage's start to the next one's."""
    cpu_s: float
    """User + system time of this process (all its threads) during the stage."""
    child_cpu_s: float
    """User + system time of the child processes (ffmpeg) that finished during the stage."""
    peak_rss_mb: float
    """This process's peak resident size so far, at the end of the stage (it never goes down)."""
    total: int = 0
    """Items the stage announced (requests, sections); 0 for a stage that counts none."""
    done: int = 0
    """Items finished, those taken from the cache included."""
    cached: int = 0
    """Items taken from the cache."""


@dataclass(frozen=True)
class Timings:
    """Where a build's time went: its stages in order and the encoder's counters."""

    stages: tuple[StageTiming, ...]
    encode: EncodeStats | None = None
    """None when the build stopped before encoding (up to date)."""

    def stage(self, name: str) -> StageTiming | None:
        """The stage called *name*, if the build ran it."""
        return next((s for s in self.stages if s.name == name), None)

    def as_json(self) -> dict[str, object]:
        """For the ``--json`` report; seconds rounded to milliseconds."""
        def rounded(values: dict[str, object]) -> dict[str, object]:
            return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}

        return {"stages": [rounded(asdict(s)) for s in self.stages],
                "encode": rounded(asdict(self.encode)) if self.encode else None}


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its finished children."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not Unix
        return time.process_time(), 0.0
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def _peak_mb() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - not Unix
        return 0.0
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


class StageClock:
    """A reporter that passes every event on to *inner* and times the stages from them.

    A stage lasts from its ``stage`` event to the next one (or :meth:`finish`); the first one
    from the moment the clock was made, so that work done before the first event is not lost
    (a build announces ``load`` once the issue has been read, with nothing on the terminal
    before a problem in it). Items may be advanced from any thread.
    """

    def __init__(self, inner: Reporter) -> None:
        self.inner = inner
        self._done: list[StageTiming] = []
        self._lock = threading.Lock()
        self._name = ""
        self._started, self._cpu = time.perf_counter(), _cpu()
        self._total = self._count = self._cached = 0

    def warn(self, message: str) -> None:
        """Pass on."""
        self.inner.warn(message)

    def note(self, message: str) -> None:
        """Pass on."""
        self.inner.note(message)

    def stage(self, name: str, total: int = 0) -> None:
        """End the current stage, start *name*, pass the event on."""
        if self._name or self._done:
            self._close()
            self._started, self._cpu = time.perf_counter(), _cpu()
        self._name, self._total, self._count, self._cached = name, total, 0, 0
        self.inner.stage(name, total)

    def advance(self, item: str, cached: bool = False) -> None:
        """Count one item of the current stage, pass the event on."""
        with self._lock:
            self._count += 1
            self._cached += cached
        self.inner.advance(item, cached)

    def finish(self, encode: EncodeStats | None = None) -> Timings:
        """End the current stage; every stage so far, with the encoder's counters."""
        self._close()
        self._name = ""
        return Timings(tuple(self._done), encode)

    def _close(self) -> None:
        if not self._name:
            return
        cpu, children = _cpu()
        self._done.append(StageTiming(self._name, time.perf_counter() - self._started, cpu - self._cpu[0],
                                      children - self._cpu[1], _peak_mb(), self._total, self._count,
                                      self._cached))
