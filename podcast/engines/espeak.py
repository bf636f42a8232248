"""The embedded offline engine: espeak-ng 1.52 loaded from the ``espeakng-loader`` wheel.

The library is driven through ctypes in synchronous mode. Each sentence is synthesized by
its own call (espeak's SSML marks are dropped after some sentence ends), so the sample
where every sentence starts is known exactly. The library keeps global state, so calls in one
process are serialized with a lock; builds run the engine in worker processes, one per CPU
(:mod:`podcast.engines.workers`), where a hang or crash of the library stops one request.

The library's output depends slightly on what it said before: its pitch "flutter" runs on a
phase that carries over between calls, and other generator state does too. To make every
clip a pure function of its request (so that an incremental build gives the same bytes as a
cold one), voices get a variant that sets flutter to 0 (it lives in a private overlay of the
wheel's data folder: symlinks plus one file), and each request is spoken twice, keeping the
second rendering, which no longer depends on the history (espeak is fast; this doubles a
cost of about one second per minute of speech).

The overlay lives in the temp dir, claimed by the process that made it
(:mod:`podcast.infra.locking`) and removed when it exits; the overlays of processes that died
without cleaning up (SIGKILL) are removed by the next process that makes one.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from podcast.engines.base import Capabilities, Clip, LocalEngine, Request, VoiceInfo
from podcast.engines.workers import cpu_count
from podcast.errors import EngineError, EngineUnavailable
from podcast.infra.locking import claim, remove_unclaimed

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_END_PAUSE = 0x1000
_POS_CHARACTER = 1
_PARAM_RATE, _PARAM_VOLUME, _PARAM_PITCH = 1, 2, 3

_DEFAULT_VOICES = {"zh": "cmn", "yue": "yue", "en": "en-us", "ja": "ja", "de": "de", "fr": "fr",
                   "es": "es", "it": "it", "pt": "pt-br", "ru": "ru", "ko": "ko"}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _VoiceStruct(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


STEADY = "podcast-steady"
"""Name of the variant that turns flutter off (appended to voices that name no variant)."""
OVERLAY_PREFIX = "podcast-espeak-overlay-"
"""Overlays that are claimed (``podcast-espeak-XXXXXXXX`` ones, of versions that did not claim
them, cannot be told from those of a process still running: they are left alone)."""
_CLAIMS: list[int] = []
"""Descriptors holding this process's claim on its overlay."""


def _new_overlay() -> Path:
    """A new empty folder for the overlay in the temp dir, claimed by this process, after
    removing the overlays no living process claims."""
    temp = Path(tempfile.gettempdir())
    for old in temp.glob(f"{OVERLAY_PREFIX}*"):
        remove_unclaimed(old, shutil.rmtree)
    for _attempt in range(10):
        root = Path(tempfile.mkdtemp(prefix=OVERLAY_PREFIX))
        fd = claim(root)
        if fd is not None:
            _CLAIMS.append(fd)
            atexit.register(shutil.rmtree, root, True)
            return root
    raise OSError(f"espeak data overlays in {temp} keep disappearing")


def _overlay(data: Path) -> Path:
    """A folder whose ``espeak-ng-data`` is *data* plus the steady variant, or *data*'s parent."""
    try:
        root = _new_overlay()
        target = root / "espeak-ng-data"
        target.mkdir()
        for item in data.iterdir():
            if item.name != "voices":
                (target / item.name).symlink_to(item)
        (target / "voices").mkdir()
        for item in (data / "voices").iterdir():
            if item.name != "!v":
                (target / "voices" / item.name).symlink_to(item)
        variants = target / "voices" / "!v"
        variants.mkdir()
        for item in (data / "voices" / "!v").iterdir():
            (variants / item.name).symlink_to(item)
        (variants / STEADY).write_text(f"language variant\nname {STEADY}\nflutter 0\n", encoding="utf-8")
        return root
    except OSError:  # no symlinks here: use the data as shipped (clips then vary slightly)
        return data.parent


def espeak_voice(name: str) -> str:
    """The voice name given to the library: the steady variant unless one is named."""
    return name if "+" in name else f"{name}+{STEADY}"


class _Library:
    """The loaded, initialized espeak-ng library (one per process)."""

    _instance: _Library | None = None
    _guard = threading.Lock()

    def __init__(self, root: Path | None = None) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise EngineUnavailable("espeak: the espeakng-loader package is not installed") from exc
        self.lock = threading.Lock()
        try:
            self.lib: Any = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as exc:
            raise EngineUnavailable(f"espeak: cannot load libespeak-ng: {exc}") from exc
        self.root = root or _overlay(Path(espeakng_loader.get_data_path()))
        """The folder whose ``espeak-ng-data`` the library reads."""
        self.sample_rate = int(self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(self.root).encode(), 0))
        if self.sample_rate <= 0:
            raise EngineUnavailable(f"espeak: initialization failed with data in {self.root}")
        self.lib.espeak_Info.restype = ctypes.c_char_p
        self.version = (self.lib.espeak_Info(None) or b"unknown").decode()
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceStruct))
        self._chunks: list[bytes] = []
        self._callback = _Callback(self._on_audio)
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls, root: Path | None = None) -> _Library:
        """The process-wide library, loaded on first use (with the data in *root*, when given,
        else in a new overlay)."""
        with cls._guard:
            if cls._instance is None:
                cls._instance = cls(root)
            return cls._instance

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def set_voice(self, name: str) -> bool:
        """Select voice *name*; False when espeak does not know it."""
        return int(self.lib.espeak_SetVoiceByName(name.encode())) == 0

    def synthesize(self, sentences: tuple[str, ...], voice: str, rate: int, pitch: int,
                   volume: int) -> tuple[bytes, list[int]]:
        """Speak each sentence in turn; PCM bytes and the sample where each one starts."""
        with self.lock:
            if not self.set_voice(espeak_voice(voice)):
                raise EngineError(f"espeak: unknown voice {voice!r}")
            self.lib.espeak_SetParameter(_PARAM_RATE, rate, 0)
            self.lib.espeak_SetParameter(_PARAM_PITCH, pitch, 0)
            self.lib.espeak_SetParameter(_PARAM_VOLUME, volume, 0)
            for _settle in range(2):  # the second rendering is independent of the history
                self._chunks = []
                starts: list[int] = []
                for sentence in sentences:
                    starts.append(sum(len(c) for c in self._chunks) // 2)
                    data = sentence.encode()
                    status = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0,
                                                   _CHARS_UTF8 | _END_PAUSE, None, None)
                    if status != 0:
                        raise EngineError(f"espeak: synthesis failed with status {status}")
                    self.lib.espeak_Synchronize()
            pcm = b"".join(self._chunks)
            self._chunks = []
        return pcm, starts

    def list_voices(self) -> list[VoiceInfo]:
        """Every voice in the bundled data."""
        with self.lock:
            table = self.lib.espeak_ListVoices(None)
            out: list[VoiceInfo] = []
            i = 0
            while table[i]:
                v = table[i].contents
                langs = v.languages[1:].split(b"\x00", 1)[0].decode(errors="replace") if v.languages else ""
                ident = (v.identifier or b"").decode(errors="replace")
                gender = {1: "male", 2: "female"}.get(v.gender, "")
                out.append(VoiceInfo(name=ident.rsplit("/", 1)[-1], language=langs, gender=gender,
                                     description=(v.name or b"").decode(errors="replace")))
                i += 1
            return out


@functools.cache
def known_voices() -> tuple[frozenset[str], frozenset[str]]:
    """The bundled voices' file names and paths under ``lang/`` (lowercase, as the library
    matches them), and the variant names; read from the data folder without loading the
    library."""
    try:
        import espeakng_loader

        lang = Path(espeakng_loader.get_data_path()) / "lang"
        names = {name.lower() for file in lang.rglob("*") if file.is_file()
                 for name in (file.name, file.relative_to(lang).as_posix())}
        variants = frozenset(f.name for f in (lang.parent / "voices" / "!v").iterdir())
    except (ImportError, OSError):
        return frozenset(), frozenset()
    return frozenset(names), variants


def _known(voice: str) -> bool:
    base, _, variant = voice.partition("+")
    names, variants = known_voices()
    return base.lower() in names and (not variant or variant in variants)


class EspeakEngine(LocalEngine):
    """espeak-ng through ctypes; always available offline.

    No request limit (it speaks one sentence per library call), sentence timings from those
    calls, every prosody setting, one worker process per CPU. ``data_root`` is not a show
    option: worker processes get the build's data overlay through it.
    """

    name = "espeak"
    capabilities = Capabilities(sentence_marks=True, concurrency=cpu_count())
    letter_names: ClassVar[Mapping[str, str]] = {"A": "eh"}
    """espeak reads a lone "A" before a word as "uh"."""

    def __init__(self, data_root: str | None = None, **options: Any) -> None:
        self.configure(options)
        self._data_root = Path(data_root) if data_root else None

    @property
    def _lib(self) -> _Library:
        """The library, loaded on first use: checking a show's voices does not need it."""
        return _Library.get(self._data_root)

    def probe(self) -> str | None:
        """Why the library cannot be used here, or None when it loads."""
        try:
            _ = self._lib
        except EngineUnavailable as exc:
            return str(exc)
        return None

    def worker_options(self) -> dict[str, Any]:
        """Options for the copy in a worker process: read this process's data overlay rather
        than make another (that takes 30-100 ms; this process removes it when it exits)."""
        return {"data_root": str(self._lib.root)}

    def version(self) -> str:
        """``espeak-ng <library version>``."""
        return f"espeak-ng {self._lib.version} {STEADY}/2"

    def default_voice(self, language: str) -> str:
        """``cmn`` for Mandarin, ``en-us`` for English, else the primary language subtag."""
        primary = language.split("-")[0].lower()
        return _DEFAULT_VOICES.get(primary, primary)

    def check_voice(self, voice: str) -> str | None:
        """Reject voices the bundled data does not have: a voice file's name or path (with a
        variant file after ``+``) passes without loading the library; anything else (a
        display name, a language) is put to the library itself."""
        if _known(voice):
            return None
        with self._lib.lock:
            ok = self._lib.set_voice(espeak_voice(voice))
        return None if ok else f"espeak has no voice {voice!r} (see `podcast voices --engine espeak`)"

    def voices(self) -> list[VoiceInfo]:
        """The bundled voices."""
        return self._lib.list_voices()

    def synthesize_sync(self, request: Request) -> Clip:
        """Speak *request* on the calling thread."""
        voice = request.voice
        rate = max(80, min(450, round(175 * (1 + voice.rate_pct / 100))))
        pitch = max(0, min(100, 50 + voice.pitch_hz))
        volume = max(0, min(200, 100 + voice.volume_pct))
        import numpy as np

        pcm, marks = self._lib.synthesize(request.sentences, voice.name, rate, pitch, volume)
        samples = np.frombuffer(pcm, dtype=np.int16).copy()
        if samples.size == 0:
            raise EngineError("espeak: no audio produced")
        return Clip(samples=samples, sample_rate=self._lib.sample_rate, marks=tuple(marks))
