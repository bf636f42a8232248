"""The engine contract: everything the pipeline asks of a TTS engine, declared in one place.

An engine is a subclass of :class:`Engine` (or of :class:`LocalEngine`, for one that computes
on this machine with a blocking call). Five members are required: ``name``, :meth:`version`,
:meth:`default_voice`, :meth:`voices` and ``synthesize``; everything else has a default that a
plain engine can keep: its option schema (none), request limit (none), capabilities
(no sentence timings, every prosody setting, one request at a time), letter names (as
written), :meth:`check_voice`, :meth:`probe` (available), :meth:`config_problem` (none) and
:meth:`worker_options` (none).

Why a base class and not a protocol: the pipeline calls every hook on every engine, so each
needs one definition of its default, and a class gives it exactly once (no ``getattr`` with a
fallback at each call site); the registry refuses anything that does not derive from it, so
mypy and the registry check the same contract. Text and voice settings go in as a
:class:`Request`; audio with exact sample counts comes out as a :class:`Clip`.
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from podcast.engines.options import Option, OptionValues

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
        for key, value in (("rate", self.rate), ("pitch", self.pitch), ("volume", self.volume)):
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


PROSODY = frozenset({"rate", "pitch", "volume"})
"""The voice settings a :class:`Voice` carries besides its name."""


@dataclass(frozen=True)
class RequestLimit:
    """The most text an engine takes in one request, in characters or UTF-8 bytes.

    The pipeline splits longer narration into several requests below it: at sentence ends,
    and a sentence that is too long on its own at clause punctuation, then at spaces.
    """

    amount: int
    unit: Literal["chars", "bytes"] = "chars"

    def __post_init__(self) -> None:
        if self.amount < 1:
            raise ValueError(f"a request limit must be positive, got {self.amount}")

    def size(self, sentences: tuple[str, ...]) -> int:
        """How much of the limit a request of *sentences* uses (as the engine receives it)."""
        text = "".join(_join(sentences))
        return len(text.encode()) if self.unit == "bytes" else len(text)

    def fits(self, sentences: tuple[str, ...]) -> bool:
        """Whether one request can hold *sentences*."""
        return self.size(sentences) <= self.amount

    def __str__(self) -> str:
        return f"{self.amount:,} {'characters' if self.unit == 'chars' else 'bytes'}"


@dataclass(frozen=True)
class Capabilities:
    """What an engine can give."""

    sentence_marks: bool = False
    """Whether its clips say where each sentence starts (``Clip.marks``, one per sentence).
    Without them, transcript cues share a clip's time in proportion to the sentences' length."""
    prosody: frozenset[str] = PROSODY
    """Which voice settings (``rate``, ``pitch``, ``volume``) it honours; a show that sets
    another one gets a warning from ``podcast validate``."""
    concurrency: int = 1
    """Requests it serves at once by default (``synthesis.concurrency`` overrides it)."""

    def __post_init__(self) -> None:
        if not self.prosody <= PROSODY:
            raise ValueError(f"unknown prosody settings: {', '.join(sorted(self.prosody - PROSODY))}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")


class Engine(ABC):
    """A text-to-speech engine. Engines are found by name in the registry
    (:mod:`podcast.engines.registry`), built-in ones and plugins alike."""

    name: str
    """The engine's name: its entry point, its show.yaml section, its key in voices."""
    options: ClassVar[tuple[Option, ...]] = ()
    """The options a show may give it (its show.yaml section): the factory receives them as
    keyword arguments; read them with :meth:`configure`."""
    request_limit: ClassVar[RequestLimit | None] = None
    """The most text one request may hold (``None``: no limit)."""
    capabilities: ClassVar[Capabilities] = Capabilities()
    """Sentence timings, prosody settings honoured, default concurrency."""
    letter_names: ClassVar[Mapping[str, str]] = {}
    """How to write a letter when spelling out an acronym so that it is said as a letter
    (espeak reads a lone "A" before a word as "uh": ``{"A": "eh"}``); unlisted letters are
    written as they are."""
    runs_locally: ClassVar[bool] = False
    """Whether it computes on this machine with :meth:`LocalEngine.synthesize_sync`, so that
    builds run it in worker processes (see :mod:`podcast.engines.workers`)."""

    def configure(self, given: Mapping[str, Any]) -> OptionValues:
        """The values of :attr:`options`, *given* over the defaults; raises ValueError for an
        unknown option or a value its declaration refuses."""
        return OptionValues(self.options, given, self.name)

    @abstractmethod
    def version(self) -> str:
        """Engine (library, model) version; part of every cache key, so it names everything
        that changes the audio for the same request (options included)."""

    @abstractmethod
    def default_voice(self, language: str) -> str:
        """The voice this engine uses for *language* when the show names none."""

    def check_voice(self, voice: str) -> str | None:
        """An error message when *voice* cannot be used, else ``None`` (default: any name)."""
        return None

    @abstractmethod
    def voices(self) -> list[VoiceInfo]:
        """Voices this engine offers."""

    @abstractmethod
    async def synthesize(self, request: Request) -> Clip:
        """Speak *request*; raise :class:`podcast.errors.EngineError` on failure
        (:class:`~podcast.errors.TransientEngineError` for what a retry may fix), with a ``kind``
        that names how it failed: failures of one kind in a row stop the build's queue. Any
        other exception is reported as the engine's failure, naming the segment."""

    def probe(self) -> str | None:
        """Why the engine cannot be used right now (a service does not answer), or ``None``
        when it can. Called once before a build; a show's ``fallback`` is used when it says
        why not. Default: available."""
        return None

    def config_problem(self) -> str | None:
        """What is wrong with this engine's settings (say, from the environment), or ``None``;
        ``podcast validate`` reports it at the engine's show.yaml section."""
        return None

    def worker_options(self) -> dict[str, Any]:
        """Options for the copies of a local engine that worker processes make, over those
        this copy was made with (default: none)."""
        return {}


class LocalEngine(Engine):
    """An engine that computes on this machine with a blocking call.

    Builds run it in worker processes (see :mod:`podcast.engines.workers`), which a hang or a
    crash in the engine cannot take down with them; set ``runs_locally = False`` to keep it in
    the build's process. Each worker makes its copy with the options the build's copy was
    made with, updated with what :meth:`worker_options` returns.
    """

    runs_locally: ClassVar[bool] = True

    @abstractmethod
    def synthesize_sync(self, request: Request) -> Clip:
        """Speak *request* on the calling thread; raise :class:`podcast.errors.EngineError` on failure."""

    async def synthesize(self, request: Request) -> Clip:
        """Speak *request* in a thread (builds call :meth:`synthesize_sync` in workers)."""
        return await asyncio.to_thread(self.synthesize_sync, request)
