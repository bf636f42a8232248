"""How the CLI shows a build's progress: bars on a terminal, plain lines in CI logs.

Both implement :class:`podcast.report.Reporter`; library code never prints.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import typer


def err(message: str) -> None:
    """One line on stderr."""
    typer.echo(message, err=True)


UNITS = {"synthesize": "requests", "encode": "sections"}
"""What a stage counts, for its first line."""


class Lines:
    """Progress as plain lines on stderr: for CI logs and pipes.

    A stage that counts items is a line (``encode: 16 sections``), then a line for each item
    (``[3/16] section 3: encoded``; ``cached`` when it came from the cache). The other stages
    (``load``, ``mix``, ``publish``) and each stage's time are shown with *verbose* only, so
    that a problem found while loading is the only line on stderr.
    """

    def __init__(self, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet, self.verbose = quiet, verbose
        self.total = self.done = 0
        self._stage_started = time.monotonic()
        self._stage = ""

    def warn(self, message: str) -> None:
        err(message if ": warning: " in message else f"WARNING: {message}")

    def stage(self, name: str, total: int = 0) -> None:
        self._timing()
        self._stage, self._stage_started = name, time.monotonic()
        self.total, self.done = total, 0
        if total and not self.quiet:
            self._say(f"{name}: {total} {UNITS.get(name, 'items')}")
        elif self.verbose:
            self._say(f"{name}...")

    def advance(self, item: str, cached: bool = False) -> None:
        self.done += 1
        if not self.quiet:
            self._say(f"[{self.done}/{self.total}] {item}: {'cached' if cached else _past(self._stage)}")

    def note(self, message: str) -> None:
        if self.verbose:
            self._say(message)

    def finish(self) -> None:
        self._timing()

    def _timing(self) -> None:
        if self.verbose and self._stage:
            self._say(f"  {self._stage} took {time.monotonic() - self._stage_started:.1f} s")

    def _say(self, line: str) -> None:
        err(line)


def _past(stage: str) -> str:
    """``synthesize`` -> ``synthesized``, ``encode`` -> ``encoded``, ``mix`` -> ``mixed``."""
    return stage + ("d" if stage.endswith("e") else "ed")


class Bars(Lines):
    """Progress bars on a terminal (rich, through typer): one bar per stage, with its own count."""

    def __init__(self, verbose: bool = False) -> None:
        super().__init__(False, verbose)
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self.task: Any = None

    def warn(self, message: str) -> None:
        self.progress.console.print(message if ": warning: " in message else f"WARNING: {message}",
                                    markup=False, highlight=False)

    def stage(self, name: str, total: int = 0) -> None:
        if self.task is None:
            self.progress.start()
        else:
            self.progress.update(self.task, visible=False)
        self.task = self.progress.add_task(name, total=total or None)
        if self.verbose:
            Lines.stage(self, name, total)
        self._stage, self.total, self.done = name, total, 0

    def advance(self, item: str, cached: bool = False) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, description=f"{self._stage} {item}")

    def finish(self) -> None:
        self.progress.stop()
        super().finish()

    def _say(self, line: str) -> None:
        self.progress.console.print(line, markup=False, highlight=False)


def reporter_for(quiet: bool, verbose: bool, machine: bool = False) -> Lines:
    """Bars on a terminal, plain lines for logs and pipes, nothing but problems when quiet."""
    if quiet or machine:
        return Lines(quiet=True, verbose=verbose and not machine)
    return Bars(verbose) if sys.stderr.isatty() else Lines(verbose=verbose)
