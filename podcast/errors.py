"""One exception tree for the whole package.

Anything that is the user's input's fault is an :class:`InputError` (exit code 2) and is
shown as one line per problem, never as a traceback. Everything else that we anticipate is a
:class:`PodcastError` (exit code 1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def shown(path: Path) -> Path:
    """*path* as a user would write it: relative to the working folder when inside it."""
    for here, there in ((os.path.abspath(path), os.getcwd()), (path.resolve(), Path.cwd().resolve())):
        try:
            return Path(here).relative_to(there)
        except ValueError:
            continue
    return path


class PodcastError(Exception):
    """Base class of every error this package raises on purpose (exit code 1)."""


class DiskFull(PodcastError):
    """A write found no space left: the message names the folder (cache or output)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, located by line and column (1-based)."""

    file: Path
    line: int
    column: int
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {self.field}: {prefix}{self.message}"


class InputError(PodcastError):
    """Invalid user input: one or more located problems (exit code 2)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = [p for p in problems if p.severity == "error"] or problems
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(PodcastError):
    """A bad value outside the input files: a command-line option or an environment variable
    (exit code 2, one line naming it)."""


class EngineError(PodcastError):
    """A TTS engine failed to produce audio for a segment.

    ``kind`` names the way it failed, in a few words that stay the same from one request to
    the next (``timeout``, ``HTTP 403``, ``malformed answer``): failures of one kind in a row
    stop the queue (:mod:`podcast.synthesis.run`). Empty: the message, numbers aside, is the kind.
    """

    def __init__(self, message: str = "", *, kind: str = "") -> None:
        super().__init__(message)
        self.kind = kind


class TransientEngineError(EngineError):
    """A failure that a retry may fix: refused or dropped connection, throttling, no audio."""


class ClipRejected(EngineError):
    """A clip failed quality checks (empty, silent, implausibly short or long)."""


class EngineUnavailable(EngineError):
    """An engine cannot be used on this machine (missing library, service unreachable)."""


class EngineFailing(EngineError):
    """The engine failed several requests in a row the same way, so the queue was stopped."""


class DeadlineReached(EngineError):
    """The build's synthesis deadline passed (no fallback engine gets more time)."""


class AudioError(PodcastError):
    """Decoding, mixing, measuring or encoding audio failed."""
