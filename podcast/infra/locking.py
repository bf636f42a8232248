"""One build at a time per episode and output folder; and claims on what a process leaves
in shared folders while it runs.

Two builds of the same issue into the same folder (two terminals, a CI retry, a cron job
overlapping the user) take turns: the second waits on an exclusive ``flock`` held by the
first, and then usually finds the episode up to date. The lock files live under the clip
cache, never in the output folder, so a build that fails leaves nothing there; the kernel
releases a lock when its holder dies, so a killed build never blocks the next one.

A temporary file or folder that a process makes in a shared place (a staged output beside
the episode, espeak's data overlay in the temp dir) is *claimed*: the process holds a shared
``flock`` on it for as long as it may use it. Whatever ends the process (an exception, a
signal, SIGKILL, the OOM killer), the kernel drops the claim, so any later process can tell
what was abandoned: a thing nobody claims (:func:`remove_unclaimed`). Unlike a process id
written into a name, a claim cannot be confused by a reused id or by another container's
processes writing to the same folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

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


def claim_fd(fd: int) -> bool:
    """Claim the file or folder open as *fd*, which this process has just made; False when it
    was removed (as unclaimed, by another process) before the claim took: make another one.
    The claim lasts until *fd* is closed."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a remover holds it; it then finds it gone
    except OSError:  # a file system without locks: nobody can remove it as unclaimed either
        return True
    return os.fstat(fd).st_nlink > 0


def claim(path: Path) -> int | None:
    """Claim *path* (see :func:`claim_fd`): the descriptor that holds the claim, or None when
    *path* is gone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    if claim_fd(fd):
        return fd
    os.close(fd)
    return None


def remove_unclaimed(path: Path, remove: Callable[[Path], object]) -> bool:
    """Remove *path* (a regular file or a folder, not a link) with *remove* when no living
    process claims it; whether it did."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # gone already, a link, or not ours to read
        return False
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a living process claims it (or the file system has no locks: keep it)
            return False
        try:
            remove(path)  # holding the lock: a claim made meanwhile finds it gone and starts over
        except OSError:  # gone meanwhile, or not ours to remove: leave it
            return False
        return True
    finally:
        os.close(fd)
