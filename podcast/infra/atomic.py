"""Atomic file output: nothing half-written is ever visible, and a failure replaces nothing.

Writes are also durable: a staged file is flushed to disk before it is moved into place,
and its folder after the move, so even a power cut leaves either the old file or the new
one, never an empty or partial one.

Every temporary file is claimed (:mod:`podcast.infra.locking`) by the process that writes
it until it is moved into place or removed. What a process that died left behind is
therefore unclaimed, and any build removes such files from the folders it writes to
(:func:`remove_stale_temps`), whichever episode they were for, while the files of builds
still running stay.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from podcast.errors import DiskFull, UsageError, shown
from podcast.infra import failpoints
from podcast.infra.locking import claim_fd, remove_unclaimed

TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMP_SUFFIX))
"""The name :func:`temp_beside` gives: ``.{name}.`` and :func:`tempfile.mkstemp`'s 8 characters."""
_CLAIMS: dict[Path, int] = {}
"""This process's temporary files, each with the descriptor that holds its claim."""


LATEST_EPOCH = 253_402_300_799
"""9999-12-31 23:59:59 UTC: the last second a file date and an RFC 2822 date can hold."""


def source_date_epoch() -> int | None:
    """``$SOURCE_DATE_EPOCH`` as an integer, when set (the reproducible-builds convention for
    the modification time of outputs)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > LATEST_EPOCH:
        raise UsageError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970 up to {LATEST_EPOCH} "
                         f"(9999-12-31), not {value[:40]!r}")
    return int(value)


def temp_beside(path: Path) -> Path:
    """A new empty temporary file in *path*'s folder (created if needed), named after it:
    ``.{name}.XXXXXXXX.tmp``, and claimed by this process until it is moved into place or
    removed (:func:`release`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(10):
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        if claim_fd(fd):
            _CLAIMS[Path(name)] = fd
            return Path(name)
        os.close(fd)  # another build removed it as unclaimed in the instant before the claim
    raise OSError(errno.EAGAIN, f"temporary files in {path.parent} keep disappearing")


def release(tmp: Path) -> None:
    """Give up this process's claim on temporary file *tmp* (moved into place, or removed)."""
    fd = _CLAIMS.pop(tmp, None)
    if fd is not None:
        os.close(fd)


def remove_stale_temps(outputs: Iterable[Path]) -> list[Path]:
    """Remove the temporary files that processes which are gone (killed, crashed) left in the
    folders of *outputs*, whatever file or episode they were for; those of living processes
    stay. Returns what was removed."""
    removed: list[Path] = []
    for folder in dict.fromkeys(path.parent for path in outputs):
        with contextlib.suppress(OSError):  # no such folder yet, or not ours to read
            removed += [entry for entry in sorted(folder.iterdir())
                        if _TEMP_NAME.fullmatch(entry.name) and remove_unclaimed(entry, os.unlink)]
    return removed


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    """Flush *path* (a file or a folder) to disk."""
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move_into_place(tmp: Path, path: Path) -> None:
    """Durably replace *path* with the finished file *tmp* (readable by everyone)."""
    os.chmod(tmp, 0o644)
    _fsync(tmp)
    os.replace(tmp, path)
    release(tmp)
    _fsync(path.parent, os.O_RDONLY | os.O_DIRECTORY)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside *path*; move it into place only if the block succeeds."""
    tmp = temp_beside(path)
    try:
        yield tmp
        move_into_place(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        release(tmp)


class Outputs:
    """A set of files written together: all are staged first, then all are moved into place.

    Use as a context manager; leaving it with an exception removes every staged file and
    leaves the previous outputs untouched. Files are moved in the order they were staged:
    stage last the file that proves the set complete (a manifest of the others' hashes), so
    that a crash during the commit can never leave a proof of a mixed set.
    """

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}
        self._made: list[Path] = []
        """Folders staging created, removed again (when empty) if the set is not committed."""

    def stage(self, path: Path) -> Path:
        """A temporary path that becomes *path* on commit."""
        missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
        self._staged[path] = temp_beside(path)
        self._made += [folder for folder in missing if folder not in self._made]
        return self._staged[path]

    def staged(self) -> dict[Path, Path]:
        """Final path → staged temporary path, for every file staged so far."""
        return dict(self._staged)

    def write_text(self, path: Path, text: str) -> None:
        """Stage *text* (UTF-8, Unix newlines) for *path*."""
        self.stage(path).write_bytes(text.encode("utf-8"))

    def commit(self, mtime: int | None = None) -> list[Path]:
        """Move every staged file into place, in staging order, each one durably (with
        modification time *mtime* if given).

        The set moves as a unit: each file it replaces is kept (a hard link beside it) until
        the whole set is in place, and a move that fails puts back every file moved before it
        (or removes it, where there was none), so the folder holds the old set or the new one,
        never a mix. A process killed during the commit leaves the kept files as stale
        temporary files, which the next build of the episode removes."""
        moved: list[tuple[Path, Path | None]] = []
        try:
            for i, (final, tmp) in enumerate(self._staged.items()):
                if i:
                    failpoints.hit("commit")
                if mtime is not None:
                    os.utime(tmp, (mtime, mtime))
                previous = _keep(final)
                moved.append((final, previous))
                move_into_place(tmp, final)
        except BaseException:
            for final, previous in reversed(moved):
                with contextlib.suppress(OSError):
                    if previous is not None:
                        os.replace(previous, final)
                        release(previous)
                    elif final.is_file():
                        final.unlink()
            raise
        finally:
            for _, previous in moved:
                if previous is not None:
                    with contextlib.suppress(OSError):
                        previous.unlink()
                    release(previous)
        done = list(self._staged)
        self._staged.clear()
        self._made.clear()
        return done

    def discard(self) -> None:
        """Remove every staged file."""
        for tmp in self._staged.values():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            release(tmp)
        self._staged.clear()
        for folder in sorted(self._made, key=lambda f: len(f.parts), reverse=True):
            with contextlib.suppress(OSError):  # not empty: something else is in it now
                folder.rmdir()
        self._made.clear()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def _keep(path: Path) -> Path | None:
    """A second name for the file at *path* (a hard link, else a copy) beside it, so that it can
    be put back; None when there is no file there."""
    if not path.is_file() or path.is_symlink():
        return None
    keep = temp_beside(path)
    keep.unlink()
    release(keep)
    try:
        os.link(path, keep)
    except OSError:  # a file system without hard links
        shutil.copy2(path, keep)
    fd = os.open(keep, os.O_RDONLY)
    if claim_fd(fd):  # so that no other build takes it for a killed build's leftover
        _CLAIMS[keep] = fd
    else:
        os.close(fd)
    return keep


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
"""A full disk, or a full quota."""


def _no_space(exc: BaseException) -> bool:
    """Whether *exc*, or an error it was raised from (a library's wrapper), is a full disk."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, OSError) and cause.errno in NO_SPACE:
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


@contextlib.contextmanager
def writing_to(role: str, folder: Path, remedy: str) -> Iterator[None]:
    """Say which folder is full when the disk fills up inside the block: an error naming the
    *role* (``cache``, ``output``) and *folder*, and what to do (*remedy*), instead of a bare
    ``[Errno 28]``."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:
        if not _no_space(exc):
            raise
        raise DiskFull(f"no space left on the device of the {role} folder {shown(folder)}: "
                       f"{remedy}") from exc
