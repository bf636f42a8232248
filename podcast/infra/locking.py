"""One build at a time per episode and output folder.

Two builds of the same issue into the same folder (two terminals, a CI retry, a cron job
overlapping the user) take turns: the second waits on an exclusive ``flock`` held by the
first, and then usually finds the episode up to date. The lock files live under the clip
cache, never in the output folder, so a build that fails leaves nothing there; the kernel
releases a lock when its holder dies, so a killed build never blocks the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from podcast.infra.atomic import stale_temps
from podcast.report import Reporter


def lock_file(cache_root: Path, out: Path, stem: str) -> Path:
    """The lock for episode *stem* in folder *out*: ``<cache>/locks/<sha256>.lock``."""
    name = hashlib.sha256(f"{out.resolve()}\0{stem}".encode()).hexdigest()
    return cache_root / "locks" / f"{name}.lock"


@contextlib.contextmanager
def episode_lock(cache_root: Path, out: Path, stem: str, reporter: Reporter) -> Iterator[None]:
    """Hold the lock of episode *stem* in *out*, waiting (with a warning) while another
    process holds it."""
    path = lock_file(cache_root, out, stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            reporter.warn(f"waiting for another build of {stem} into {out}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_stale_temps(outputs: Iterable[Path]) -> list[Path]:
    """Remove the staged temporary files of *outputs* that a killed build left behind (call
    holding the episode's lock); returns what was removed."""
    removed = []
    for output in outputs:
        for tmp in stale_temps(output):
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed
