"""The narrow engine interface: text and voice settings in, audio with exact samples out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:  # numpy is only needed once there is audio, not to check a show
    import numpy as np
    import numpy.typing as npt

    Samples: TypeAlias = npt.NDArray[np.int16]

_RATE_RE = re.compile(r"^[+-]\d{1,3}%$")
_PITCH_RE = re.compile(r"^[+-]\d{1,3}Hz$")


@dataclass(frozen=True)
class Voice:
    """Voice settings for one request, in edge-tts notation that every engine maps.

    ``rate`` and ``volume`` are signed percentages (``+10%``), ``pitch`` a signed offset in
    hertz (``-5Hz``).
    """

    name: str
    rate: str = "+0%"
    pitch: str = "+0Hz"
    volume: str = "+0%"

    def __post_init__(self) -> None:
        for label, value, pattern in (
            ("rate", self.rate, _RATE_RE),
            ("pitch", self.pitch, _PITCH_RE),
            ("volume", self.volume, _RATE_RE),
        ):
            if not pattern.match(value):
                example = "+0Hz" if label == "pitch" else "+5%"
                raise ValueError(f"voice {label} {value!r} is not like {example}")

    @property
    def rate_pct(self) -> int:
        """Rate change in percent."""
        return int(self.rate.rstrip("%"))

    @property
    def volume_pct(self) -> int:
        """Volume change in percent."""
        return int(self.volume.rstrip("%"))

    @property
    def pitch_hz(self) -> int:
        """Pitch change in hertz."""
        return int(self.pitch[:-2])

    def key(self) -> dict[str, str]:
        """Canonical form for cache keys."""
        return {"name": self.name, "rate": self.rate, "pitch": self.pitch, "volume": self.volume}


@dataclass(frozen=True)
class VoiceOverride:
    """Per-segment changes to the show's voice.

    ``rate``/``pitch``/``volume`` apply with any engine; ``names`` maps an engine name to the
    voice that replaces the show's for that engine.
    """

    rate: str | None = None
    pitch: str | None = None
    volume: str | None = None
    names: tuple[tuple[str, str], ...] = ()
    engine_prosody: tuple[tuple[str, str, str], ...] = ()
    """(engine, setting, value) prosody that applies only with that engine."""

    def apply(self, voice: Voice, engine: str) -> Voice:
        """*voice* with this override applied for *engine*."""
        settings = {"name": voice.name, "rate": voice.rate, "pitch": voice.pitch, "volume": voice.volume}
        for key in ("rate", "pitch", "volume"):
            value = getattr(self, key)
            if value is not None:
                settings[key] = value
        for eng, key, value in self.engine_prosody:
            if eng == engine:
                settings[key] = value
        for eng, name in self.names:
            if eng == engine:
                settings["name"] = name
        return Voice(**settings)


@dataclass(frozen=True)
class Request:
    """What to say: the sentences of one chunk of narration, already in spoken form."""

    sentences: tuple[str, ...]
    voice: Voice
    language: str

    @property
    def text(self) -> str:
        """The sentences joined for engines that take one string."""
        return "".join(_join(self.sentences))


def _join(sentences: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for i, s in enumerate(sentences):
        if i and out and out[-1] and not out[-1][-1].isspace() and _needs_space(out[-1], s):
            out.append(" ")
        out.append(s)
    return out


def _needs_space(left: str, right: str) -> bool:
    return left[-1].isascii() or (bool(right) and right[0].isascii())


@dataclass(frozen=True)
class Clip:
    """Synthesized audio: int16 samples (frames × channels), rate, and sentence starts.

    ``marks`` holds the sample offset at which each sentence of the request starts, so
    transcripts can be timed without guessing.
    """

    samples: Samples
    sample_rate: int
    marks: tuple[int, ...] = field(default=())

    @property
    def channels(self) -> int:
        """Number of channels."""
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[1])

    @property
    def frames(self) -> int:
        """Exact number of sample frames."""
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        """Duration in seconds, from the exact frame count."""
        return self.frames / self.sample_rate


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine offers."""

    name: str
    language: str
    gender: str = ""
    description: str = ""


@runtime_checkable
class Engine(Protocol):
    """What every TTS engine provides. Engines are found by name in the registry."""

    name: str

    def version(self) -> str:
        """Engine (library) version; part of every cache key."""
        ...

    def default_voice(self, language: str) -> str:
        """The voice this engine uses for *language* when the show names none."""
        ...

    def check_voice(self, voice: str) -> str | None:
        """An error message when *voice* cannot be used, else ``None``."""
        ...

    def voices(self) -> list[VoiceInfo]:
        """Voices this engine offers."""
        ...

    async def synthesize(self, request: Request) -> Clip:
        """Speak *request*; raise :class:`podcast.errors.EngineError` on failure."""
        ...


@runtime_checkable
class LocalEngine(Engine, Protocol):
    """An engine that computes on this machine with a blocking call.

    Builds run it in worker processes (see :mod:`podcast.engines.workers`), which a hang or a
    crash in the engine cannot take down with them; set ``runs_locally = False`` on an engine
    to keep it in the build's process. Each worker makes its copy with the options the build's
    copy was made with, updated with what its ``worker_options()`` returns, if it has one.
    """

    def synthesize_sync(self, request: Request) -> Clip:
        """Speak *request* on the calling thread; raise :class:`podcast.errors.EngineError` on failure."""
        ...
