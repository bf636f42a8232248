"""Content-addressed store of synthesized clips.

The key hashes everything that changes the audio: engine, engine version, voice settings,
language and the spoken sentences. An entry is a 16-bit WAV file plus a JSON file with the
sentence marks and the WAV file's SHA-256; both are written atomically and durably, the JSON
last. Every read checks the WAV against that checksum: a missing, truncated or damaged entry
(a killed process, a full disk, a flipped bit) is simply a miss, and is removed; the cache is
only ever an optimization.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import platformdirs

from podcast.audio.ffmpeg import BlockLoudness, write_wav
from podcast.engines.base import Clip, Request
from podcast.errors import UsageError
from podcast.infra import failpoints
from podcast.infra.atomic import atomic_path, writing_to

T = TypeVar("T")
FORMAT_VERSION = 1
ENV_VAR = "PODCAST_CACHE_DIR"
STALE_TEMP_S = 3600.0
"""A temporary file in the cache this old belongs to no running build."""
OUT_OF_SPACE = f"free some space there, or put the cache elsewhere (--cache-dir or ${ENV_VAR})"


def default_dir() -> Path:
    """``$PODCAST_CACHE_DIR``, else the user's cache directory for this tool."""
    env = os.environ.get(ENV_VAR)
    if env and Path(env).expanduser().exists() and not Path(env).expanduser().is_dir():
        raise UsageError(f"{ENV_VAR} must be a folder (it is made if missing), not the file {env!r}")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("podcast"))


def clip_key(engine: str, engine_version: str, request: Request) -> str:
    """The content hash that names a clip."""
    payload = {
        "format": FORMAT_VERSION,
        "engine": engine,
        "engine_version": engine_version,
        "voice": request.voice.key(),
        "language": request.language,
        "sentences": list(request.sentences),
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """What the cache holds."""

    location: Path
    entries: int
    bytes: int


class _Store:
    """Entries of a data file and a JSON file that validates it, named by key, in
    ``<root>/<FOLDER>/<first two characters of the key>/``."""

    FOLDER = ""
    SUFFIX = ""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_dir()).expanduser()

    def _paths(self, key: str) -> tuple[Path, Path]:
        folder = self.root / self.FOLDER / key[:2]
        return folder / f"{key}{self.SUFFIX}", folder / f"{key}.json"

    def _read(self, key: str, parse: Callable[[dict[str, Any], bytes], T]) -> T | None:
        """``parse(meta, data)`` of the entry under *key* once its checksum holds, or None: a
        missing entry, or a damaged one (any error at all), which is removed."""
        data_path, meta_path = self._paths(key)
        if not data_path.is_file() or not meta_path.is_file():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            data = data_path.read_bytes()
            if meta.get("sha256") != hashlib.sha256(data).hexdigest():
                raise ValueError("checksum mismatch")
            value = parse(meta, data)
        except Exception:  # any damage at all: the entry is a miss, and goes
            self.discard(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(data_path)  # last use, for `cache prune --older-than`
        return value

    def _write(self, key: str, write: Callable[[Path], object], meta: dict[str, Any]) -> None:
        """Store an entry atomically: the data file (``write(path)``) first, then the JSON with
        *meta* and the data's checksum, which makes it valid."""
        data_path, meta_path = self._paths(key)
        with writing_to("cache", self.root, OUT_OF_SPACE):
            with atomic_path(data_path) as tmp:
                write(tmp)
                checksum = hashlib.sha256(tmp.read_bytes()).hexdigest()
            with atomic_path(meta_path) as tmp:
                tmp.write_text(json.dumps({**meta, "sha256": checksum}, ensure_ascii=False,
                                          sort_keys=True), encoding="utf-8")

    def discard(self, key: str) -> None:
        """Remove an entry if present."""
        for path in self._paths(key):
            with contextlib.suppress(OSError):
                path.unlink()

    def keys(self) -> Iterator[str]:
        """Every stored key, including half-stored ones (a data file whose JSON was never written)."""
        folder = self.root / self.FOLDER
        if folder.is_dir():
            yield from sorted({path.stem for path in folder.glob("*/*")
                               if path.suffix in (self.SUFFIX, ".json") and not path.name.startswith(".")})

    def _unused(self, key: str, keep: set[str]) -> bool:
        return key not in keep

    def prune(self, keep: set[str] | None = None, older_than_days: float | None = None,
              now: float | None = None) -> tuple[int, int]:
        """Remove entries not made from *keep* and/or not used for *older_than_days* (both must
        hold when both are given); returns (entries removed, bytes freed)."""
        if keep is None and older_than_days is None:
            return 0, 0
        cutoff = (now if now is not None else time.time()) - (older_than_days or 0) * 86400
        removed = freed = 0
        for key in list(self.keys()):
            data_path, meta_path = self._paths(key)
            try:
                last_use = data_path.stat().st_mtime
            except OSError:
                last_use = 0.0
            unused = keep is None or self._unused(key, keep)
            old = older_than_days is None or last_use < cutoff
            if unused and old:
                for path in (data_path, meta_path):
                    with contextlib.suppress(OSError):
                        freed += path.stat().st_size
                        path.unlink()
                removed += 1
        for tmp in (self.root / self.FOLDER).glob("*/.*.tmp"):  # left by a killed process
            with contextlib.suppress(OSError):
                stat = tmp.stat()
                if stat.st_mtime < time.time() - STALE_TEMP_S:
                    tmp.unlink()
                    freed += stat.st_size
        return removed, freed

    def stats(self) -> CacheStats:
        """Number of entries and bytes used."""
        entries, size = 0, 0
        folder = self.root / self.FOLDER
        if folder.is_dir():
            for path in folder.glob("*/*"):
                size += path.stat().st_size
                entries += path.suffix == ".json"
        return CacheStats(self.root, entries, size)


class ClipCache(_Store):
    """A folder of clips named by :func:`clip_key`."""

    FOLDER, SUFFIX = "clips", ".wav"

    def get(self, key: str) -> Clip | None:
        """The clip stored under *key*, or None (corrupt entries are removed)."""
        return self._read(key, _clip)

    def put(self, key: str, clip: Clip, info: dict[str, object] | None = None) -> None:
        """Store *clip* under *key* atomically (WAV first, then the JSON that validates it)."""
        self._write(key, lambda tmp: write_wav(tmp, clip.samples, clip.sample_rate),
                    {**(info or {}), "frames": clip.frames, "marks": list(clip.marks)})
        failpoints.hit("clip-stored")

    def has(self, key: str) -> bool:
        """Whether both files of *key* exist (cheap; does not validate)."""
        wav_path, meta_path = self._paths(key)
        return wav_path.is_file() and meta_path.is_file()


@dataclass(frozen=True)
class Encoded:
    """An encoded section: its MP3 frames and their loudness as decoded."""

    mp3: bytes
    loudness: BlockLoudness


class SectionCache(_Store):
    """Encoded sections of episodes (:mod:`podcast.audio.encode`), beside the clips they were made
    from: an MP3 file of bare frames and a JSON file with its loudness, the keys of the clips
    in it and its SHA-256, checked on every read like a clip. ``prune`` with *keep* removes
    the sections made from a clip not in *keep*."""

    FOLDER, SUFFIX = "sections", ".mp3"

    def _unused(self, key: str, keep: set[str]) -> bool:
        try:
            clips = json.loads(self._paths(key)[1].read_text(encoding="utf-8"))["clips"]
        except (OSError, ValueError, KeyError, TypeError):
            return True
        return not set(clips) <= keep

    def get(self, key: str) -> Encoded | None:
        """The section stored under *key*, or None (damaged entries are removed)."""
        return self._read(key, _encoded)

    def put(self, key: str, section: Encoded, clips: list[str]) -> None:
        """Store *section* under *key* atomically (MP3 first, then the JSON that validates it)."""
        loud = section.loudness
        self._write(key, lambda tmp: tmp.write_bytes(section.mp3), {
            "clips": clips,
            "loudness": {"integrated": loud.integrated_lufs, "true_peak": loud.true_peak_db,
                         "momentary": list(loud.momentary), "short_term": list(loud.short_term)}})


def _clip(meta: dict[str, Any], data: bytes) -> Clip:
    with wave.open(io.BytesIO(data), "rb") as w:
        channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
        frames = w.readframes(w.getnframes())
    if width != 2 or meta.get("frames") != len(frames) // (2 * channels):
        raise ValueError("size mismatch")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels)
    return Clip(samples=samples, sample_rate=rate, marks=tuple(int(m) for m in meta.get("marks", [])))


def _encoded(meta: dict[str, Any], data: bytes) -> Encoded:
    loud = meta["loudness"]
    return Encoded(data, BlockLoudness(float(loud["integrated"]), float(loud["true_peak"]),
                                       tuple(float(v) for v in loud["momentary"]),
                                       tuple(float(v) for v in loud["short_term"])))
