"""Atomic file output: nothing half-written is ever visible, and a failure replaces nothing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def temp_beside(path: Path) -> Path:
    """A new empty temporary file in *path*'s folder (created if needed), named after it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside *path*; move it into place only if the block succeeds."""
    tmp = temp_beside(path)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class Outputs:
    """A set of files written together: all are staged first, then all are moved into place.

    Use as a context manager; leaving it with an exception removes every staged file and
    leaves the previous outputs untouched.
    """

    def __init__(self) -> None:
        self._staged: dict[Path, Path] = {}

    def stage(self, path: Path) -> Path:
        """A temporary path that becomes *path* on commit."""
        self._staged[path] = temp_beside(path)
        return self._staged[path]

    def staged(self) -> dict[Path, Path]:
        """Final path → staged temporary path, for every file staged so far."""
        return dict(self._staged)

    def write_text(self, path: Path, text: str) -> None:
        """Stage *text* (UTF-8, Unix newlines) for *path*."""
        self.stage(path).write_bytes(text.encode("utf-8"))

    def commit(self, mtime: int | None = None) -> list[Path]:
        """Move every staged file into place (with modification time *mtime* if given)."""
        for final, tmp in self._staged.items():
            os.chmod(tmp, 0o644)
            if mtime is not None:
                os.utime(tmp, (mtime, mtime))
            os.replace(tmp, final)
        done = list(self._staged)
        self._staged.clear()
        return done

    def discard(self) -> None:
        """Remove every staged file."""
        for tmp in self._staged.values():
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._staged.clear()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
