"""Show configuration (``show.yaml`` beside the issue files), with built-in defaults.

Every setting has a default, so an issue file with no show config beside it still builds.
Paths in the file are relative to the folder that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podcast.engines.base import Engine, Voice
from podcast.errors import InputError, Problem
from podcast.input import settings as setting
from podcast.input.assets import cover_problem
from podcast.input.schema import Reader
from podcast.input.yamlio import Document, PathKey, field_name, load_document

SHOW_FILE = "show.yaml"
PACKAGE_DIR = Path(__file__).parent.parent
ASSETS = PACKAGE_DIR / "assets"
DEFAULT_MUSIC = {"intro": ASSETS / "intro.mp3", "outro": ASSETS / "outro.mp3"}
DEFAULT_COVER = ASSETS / "cover.png"
BITRATES = ("64k", "96k", "112k", "128k", "160k", "192k", "256k", "320k")
SAMPLE_RATES = (22050, 24000, 32000, 44100, 48000)

LEXICON_FILE = "lexicon.yaml"


@dataclass(frozen=True)
class VoiceSpec:
    """Voice settings for one engine; ``name`` None means the engine's default."""

    name: str | None = None
    rate: str = "+0%"
    pitch: str = "+0Hz"
    volume: str = "+0%"

    def resolve(self, default_name: str) -> Voice:
        """A concrete :class:`Voice`, filling in the engine's default name."""
        return Voice(self.name or default_name, self.rate, self.pitch, self.volume)


# Each setting below is declared once: its type (the function), default, bounds or choices, and
# doc. Known keys, readers, errors and the README's settings reference all come from these.

@dataclass(frozen=True)
class Music:
    """Intro/outro music and how it sits under the voice (``music:``)."""

    intro: Path | None = setting.file(DEFAULT_MUSIC["intro"], "Intro music: `default`, a file, or `none`",
                              default_doc="`default`: the packaged jingle")
    outro: Path | None = setting.file(DEFAULT_MUSIC["outro"], "Outro music: `default`, a file, or `none`",
                              default_doc="`default`: the packaged jingle")
    lead_in_s: float = setting.number(3.5, "Seconds of music alone before the first words", 0, 60)
    duck_db: float = setting.number(-18.0, "Music level under the voice, dB, relative to `volume_db`", -60, 0)
    tail_s: float = setting.number(8.0, "Seconds of music after the last words", 0, 120)
    volume_db: float = setting.number(-6.0, "Music level, dB", -60, 12)


@dataclass(frozen=True)
class Pauses:
    """Silence placed between segments (``pauses:``)."""

    between_ms: int = setting.integer(700, "Silence between entries, milliseconds", 0, 60000)
    after_intro_ms: int = setting.integer(900, "Silence after the intro, milliseconds", 0, 60000)
    before_outro_ms: int = setting.integer(900, "Silence before the outro, milliseconds", 0, 60000)


@dataclass(frozen=True)
class Output:
    """Where the outputs go and how the episode MP3 is encoded (``output:``)."""

    dir: Path | None = setting.folder("Folder of the outputs (inside the show folder or the working folder)",
                              default_doc="`audio/<show folder>` under the working folder", also_cwd=True)
    sample_rate: int = setting.integer(44100, "Sample rate of the MP3, Hz", choices=SAMPLE_RATES)
    channels: int = setting.integer(2, "1 (mono) or 2 (stereo)", 1, 2)
    bitrate: str = setting.choice("128k", "Constant bitrate of the MP3", BITRATES)


@dataclass(frozen=True)
class LoudnessTarget:
    """The loudness the episode is brought to (``loudness:``; EBU R128 / ITU BS.1770)."""

    integrated_lufs: float = setting.number(-16.0, "Integrated loudness, LUFS", -40, -5)
    true_peak_db: float = setting.number(-1.0, "Ceiling of the true peak, dBTP", -12, 0)


@dataclass(frozen=True)
class SynthesisSettings:
    """How synthesis runs (``synthesis:``): parallel requests, retries, and a build-wide deadline."""

    concurrency: int | None = setting.integer(None, "Requests synthesized at once", 1, 32,
                                      default_doc="the engine's own (edge 4, espeak one per CPU)")
    attempts: int = setting.integer(4, "Tries per request for transient failures", 1, 20)
    backoff_s: float = setting.number(0.5, "First retry delay, seconds; doubles, with jitter", 0, 60)
    qa_retries: int = setting.integer(1, "Extra tries for a clip that fails its checks", 0, 5)
    deadline_s: float = setting.number(1800.0, "Seconds the whole synthesis of a build may take", 0.1, 86400)
    request_timeout_s: float = setting.number(120.0, "Seconds one request may take (long texts get more); "
                                      "then it is stopped and retried", 0.1, 3600)


@dataclass(frozen=True)
class Limits:
    """Bounds that stop a runaway issue with a clear error before (or instead of) hours of work."""

    segment_chars: int = setting.integer(20_000, "Characters of narration in one segment (an entry with its "
                                 "lead-in, the intro, the outro)", 100, 1_000_000)
    segments: int = setting.integer(300, "Segments in one episode (entries plus intro and outro)", 3, 10_000)
    episode_minutes: float = setting.number(180.0, "Length of the finished episode, minutes (checked before "
                                    "synthesis and after mixing)", 0.1, 1440)


def _read_voices(r: Reader, path: PathKey, spec: setting.Setting, default: Any,
                 ctx: setting.Context) -> dict[str, VoiceSpec]:
    return _voices(r, list(ctx.engines))


def _lexicon_file(r: Reader, path: PathKey, spec: setting.Setting, default: Any,
                  ctx: setting.Context) -> Path | None:
    """The file named at *path*, else ``lexicon.yaml`` beside show.yaml if there is one."""
    if r.has(path):
        return setting.read_file(r, path, spec, None, ctx)
    beside = ctx.base / LEXICON_FILE
    return beside if beside.is_file() and beside.resolve().is_relative_to(ctx.base.resolve()) else None


@dataclass(frozen=True)
class Show:
    """A show's settings (``show.yaml``); every field has a usable default."""

    file: Path | None = None
    title: str | None = setting.text(None, "Name of the show: album tag, feed, show notes",
                             default_doc="the issue's title")
    description: str = setting.text("", "One line about the show, for the feed and the show notes",
                            default_doc="empty")
    author: str = setting.text("", "Artist tag and the feed's author", default_doc="empty")
    language: str | None = setting.language("BCP 47 tag such as `zh-CN` or `en-US`",
                                    default_doc="the issue's, else guessed from its text")
    website: str | None = setting.url("The show's web page (http or https), for the feed")
    email: str | None = setting.text(None, "The owner's email, for the feed")
    category: str = setting.text("Technology", "Apple Podcasts category, for the feed")
    explicit: bool = setting.flag(False, "Whether the feed marks the show explicit")
    cover: Path | None = setting.file(DEFAULT_COVER, "Cover art: `default`, a PNG or JPEG file (square, "
                              "1400 to 3000 pixels, at most 2 MB), or `none`",
                              default_doc="`default`: the packaged cover", check=cover_problem)
    engine: str = setting.text("espeak", "TTS engine: an installed one (`podcast voices`)")
    fallback: str | None = setting.text(None, "Engine for the whole episode when `engine` is unavailable "
                                        "or fails")
    voices: dict[str, VoiceSpec] = setting.custom(_read_voices, dict, "Host voice per engine: a name, or "
                                          "`{name, rate, pitch, volume}`", kind="mapping",
                                          default_doc="the engine's voice for the language")
    templates: Path | None = setting.folder("Folder of template overrides (`intro.j2`, `transition.j2`, "
                                    "`entry.j2`, `outro.j2`)", default_doc="the packaged set")
    lexicon: Path | None = setting.file(None, "Pronunciation lexicon", read=_lexicon_file,
                                default_doc="`lexicon.yaml` beside show.yaml, if any")
    music: Music = setting.section(Music, "Intro and outro music")
    pauses: Pauses = setting.section(Pauses, "Silence between segments")
    output: Output = setting.section(Output, "Where the outputs go, and the MP3's format")
    loudness: LoudnessTarget = setting.section(LoudnessTarget, "Loudness the episode is brought to")
    synthesis: SynthesisSettings = setting.section(SynthesisSettings, "How synthesis runs, for any engine")
    limits: Limits = setting.section(Limits, "A build over a limit stops with an error naming it")
    engine_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each engine's section (``edge:``), by engine name."""
    positions: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    """Line and column of each field in show.yaml, by field name (``voices.edge``)."""

    def locate(self, name: str) -> tuple[int, int]:
        """Position of field *name* (or its nearest parent) in show.yaml; (1, 1) if unknown."""
        while name:
            if name in self.positions:
                return self.positions[name]
            name = name.rpartition(".")[0]
        return (1, 1)

    @property
    def dir(self) -> Path | None:
        """The folder of ``show.yaml``, if there is one."""
        return self.file.parent if self.file else None

    def options_for(self, engine: str) -> dict[str, Any]:
        """Settings the show gives engine *engine* (its top-level section, e.g. ``edge:``)."""
        return dict(self.engine_options.get(engine, {}))

    def voice_for(self, engine: Engine, language: str) -> Voice:
        """The host voice *engine* uses for this show."""
        return self.voice_spec(engine.name).resolve(engine.default_voice(language))

    def voice_spec(self, engine: str) -> VoiceSpec:
        """The show's voice settings for *engine* (defaults when it names none)."""
        return self.voices.get(engine, VoiceSpec())


FEED_REQUIRED = ("title", "description", "author", "email")
"""Show fields a feed cannot do without."""


def feed_problems(show: Show, show_dir: Path) -> list[Problem]:
    """Show settings the feed needs but the show does not give."""
    file = show.file or show_dir / SHOW_FILE
    missing = [key for key in FEED_REQUIRED if not getattr(show, key)]
    return [Problem(file, 1, 1, key, "required for the feed: set it in show.yaml") for key in missing]


def find_show(issue_file: Path) -> Path | None:
    """``show.yaml`` beside *issue_file*, if present."""
    candidate = issue_file.parent / SHOW_FILE
    return candidate if candidate.is_file() else None


def load_show(file: Path | None) -> Show:
    """Load *file* (``None`` gives the built-in defaults); raises InputError with every problem."""
    if file is None:
        return Show()
    doc = load_document(file)
    show = read_show(doc)
    if any(p.severity == "error" for p in doc.problems):
        raise InputError(doc.problems)
    return show


def read_show(doc: Document) -> Show:
    """Check and convert a parsed show document; problems are collected in *doc*."""
    r = Reader(doc)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        doc.add((), "a show file must be a mapping of fields")
        return Show(file=doc.file)
    engine_names = _engine_names()
    r.known_keys((), (*setting.keys(Show), *engine_names))
    values = setting.read_fields(r, Show, (), setting.Context(doc.file.parent, tuple(engine_names)))
    return Show(
        file=doc.file,
        **values,
        engine_options={name: _engine_options(r, name) for name in engine_names
                        if r.mapping((name,)) is not None},
        positions={field_name(k): v for k, v in doc.marks.items()},
    )


def _engine_names() -> list[str]:
    from podcast.engines import registry

    return registry.names()


def _engine_options(r: Reader, name: str) -> dict[str, Any]:
    """The show's section for engine *name*, checked against that engine's own option schema."""
    from podcast.engines import registry
    from podcast.errors import EngineUnavailable

    try:
        schema = {option.name: option for option in registry.option_schema(name)}
    except EngineUnavailable:  # the engine and fallback checks say why, where it is named
        return {}
    table = r.mapping((name,)) or {}
    r.known_keys((name,), schema)
    out: dict[str, Any] = {}
    for key, value in table.items():
        option = schema.get(key)
        if option is None or value is None:
            continue
        problem = option.problem(value)
        if problem:
            r.doc.add((name, key), problem)
            continue
        out[key] = value
    return out


def _voices(r: Reader, engines: list[str]) -> dict[str, VoiceSpec]:
    table = r.mapping(("voices",)) or {}
    r.known_keys(("voices",), engines)
    out: dict[str, VoiceSpec] = {}
    for engine, value in table.items():
        path: PathKey = ("voices", engine)
        if isinstance(value, str):
            out[engine] = VoiceSpec(name=value)
            continue
        if r.mapping(path) is None:
            continue
        r.known_keys(path, ("name", "rate", "pitch", "volume"))
        spec = VoiceSpec(
            name=r.string((*path, "name")),
            rate=r.string((*path, "rate")) or "+0%",
            pitch=r.string((*path, "pitch")) or "+0Hz",
            volume=r.string((*path, "volume")) or "+0%",
        )
        try:
            spec.resolve("check")
        except ValueError as exc:
            r.doc.add(path, str(exc))
            continue
        out[engine] = spec
    return out
