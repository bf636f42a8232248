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


class Lines:
    """Progress as plain lines on stderr: for CI logs and pipes."""

    def __init__(self, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet, self.verbose = quiet, verbose
        self.total = self.done = 0
        self._stage_started = time.monotonic()
        self._stage = ""

    def warn(self, message: str) -> None:
        err(message if ": warning: " in message else f"WARNING: {message}")

    def start(self, total: int) -> None:
        self.total, self.done = total, 0

    def step(self, segment_id: str, cached: bool) -> None:
        self.done += 1
        if not self.quiet:
            err(f"[{self.done}/{self.total}] {segment_id}: {'cached' if cached else 'synthesized'}")

    def stage(self, name: str) -> None:
        self._timing()
        self._stage, self._stage_started = name, time.monotonic()
        if not self.quiet:
            err(f"{name}...")

    def note(self, message: str) -> None:
        if self.verbose:
            err(message)

    def finish(self) -> None:
        self._timing()

    def _timing(self) -> None:
        if self.verbose and self._stage:
            err(f"  {self._stage} took {time.monotonic() - self._stage_started:.1f} s")


class Bars(Lines):
    """Progress bars on a terminal (rich, through typer)."""

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

    def start(self, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("synthesizing", total=total)

    def step(self, segment_id: str, cached: bool) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, description=f"synthesizing {segment_id}")

    def stage(self, name: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=name)
        super().stage(name) if self.verbose else None

    def note(self, message: str) -> None:
        if self.verbose:
            self.progress.console.print(message, markup=False, highlight=False)

    def finish(self) -> None:
        self.progress.stop()
        super().finish()


def reporter_for(quiet: bool, verbose: bool, machine: bool = False) -> Lines:
    """Bars on a terminal, plain lines for logs and pipes, nothing but problems when quiet."""
    if quiet or machine:
        return Lines(quiet=True, verbose=verbose and not machine)
    return Bars(verbose) if sys.stderr.isatty() else Lines(verbose=verbose)
