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
from podcast.input.schema import Reader
from podcast.input.yamlio import Document, PathKey, field_name, load_document

SHOW_FILE = "show.yaml"
PACKAGE_DIR = Path(__file__).parent.parent
ASSETS = PACKAGE_DIR / "assets"
DEFAULT_MUSIC = {"intro": ASSETS / "intro.mp3", "outro": ASSETS / "outro.mp3"}
DEFAULT_COVER = ASSETS / "cover.png"
BITRATES = ("64k", "96k", "112k", "128k", "160k", "192k", "256k", "320k")

_TOP_KEYS = (
    "title", "description", "author", "language", "website", "email", "category", "explicit",
    "cover", "engine", "fallback", "voices", "templates", "music", "pauses", "output",
    "loudness", "synthesis", "lexicon", "limits",
)
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


@dataclass(frozen=True)
class Music:
    """Intro/outro music and how it sits under the voice."""

    intro: Path | None = DEFAULT_MUSIC["intro"]
    outro: Path | None = DEFAULT_MUSIC["outro"]
    lead_in_s: float = 3.5
    duck_db: float = -18.0
    tail_s: float = 8.0
    volume_db: float = -6.0


@dataclass(frozen=True)
class Pauses:
    """Silence placed between segments."""

    between_ms: int = 700
    after_intro_ms: int = 900
    before_outro_ms: int = 900


@dataclass(frozen=True)
class Output:
    """Encoding settings of the episode MP3."""

    dir: Path | None = None
    sample_rate: int = 44100
    channels: int = 2
    bitrate: str = "128k"


@dataclass(frozen=True)
class Loudness:
    """Loudness targets (EBU R128 / ITU BS.1770)."""

    integrated_lufs: float = -16.0
    true_peak_db: float = -1.0


@dataclass(frozen=True)
class Synthesis:
    """How synthesis runs: parallel requests, retries, and a build-wide deadline."""

    concurrency: int | None = None
    attempts: int = 4
    backoff_s: float = 0.5
    qa_retries: int = 1
    deadline_s: float = 1800.0
    request_timeout_s: float = 120.0


@dataclass(frozen=True)
class Limits:
    """Bounds that stop a runaway issue with a clear error before (or instead of) hours of work."""

    segment_chars: int = 20_000
    """Characters of narration in one segment (an entry with its lead-in, the intro, the outro)."""
    segments: int = 300
    """Segments in one episode (entries plus intro and outro)."""
    episode_minutes: float = 180.0
    """Length of the finished episode."""


@dataclass(frozen=True)
class Show:
    """A show's settings; every field has a usable default."""

    file: Path | None = None
    title: str | None = None
    description: str = ""
    author: str = ""
    language: str | None = None
    website: str | None = None
    email: str | None = None
    category: str = "Technology"
    explicit: bool = False
    cover: Path | None = DEFAULT_COVER
    engine: str = "espeak"
    fallback: str | None = None
    voices: dict[str, VoiceSpec] = field(default_factory=dict)
    templates: Path | None = None
    lexicon: Path | None = None
    """The show's pronunciation lexicon (``lexicon.yaml`` beside show.yaml unless named)."""
    music: Music = field(default_factory=Music)
    pauses: Pauses = field(default_factory=Pauses)
    output: Output = field(default_factory=Output)
    loudness: Loudness = field(default_factory=Loudness)
    synthesis: Synthesis = field(default_factory=Synthesis)
    limits: Limits = field(default_factory=Limits)
    engine_options: dict[str, dict[str, Any]] = field(default_factory=dict)
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
    r.known_keys((), (*_TOP_KEYS, *engine_names))
    base = doc.file.parent
    defaults = Show()
    engine = r.string(("engine",)) or defaults.engine
    return Show(
        file=doc.file,
        title=r.string(("title",)),
        description=r.string(("description",)) or "",
        author=r.string(("author",)) or "",
        language=r.language(("language",)),
        website=r.url(("website",)),
        email=r.string(("email",)),
        category=r.string(("category",)) or defaults.category,
        explicit=bool(r.boolean(("explicit",))),
        cover=_asset(r, ("cover",), base, DEFAULT_COVER),
        engine=engine,
        fallback=r.string(("fallback",)),
        voices=_voices(r, engine_names),
        templates=_folder(r, ("templates",), base),
        lexicon=_lexicon_file(r, base),
        music=_music(r, base),
        pauses=_pauses(r),
        output=_output(r, base),
        loudness=_loudness(r),
        synthesis=_synthesis(r),
        limits=_limits(r),
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


def _synthesis(r: Reader) -> Synthesis:
    d = Synthesis()
    if r.mapping(("synthesis",)) is None:
        return d
    r.known_keys(("synthesis",), ("concurrency", "attempts", "backoff_s", "qa_retries", "deadline_s",
                                  "request_timeout_s"))
    p = "synthesis"
    attempts = r.integer((p, "attempts"), minimum=1, maximum=20)
    qa_retries = r.integer((p, "qa_retries"), minimum=0, maximum=5)
    return Synthesis(
        concurrency=r.integer((p, "concurrency"), minimum=1, maximum=32),
        attempts=d.attempts if attempts is None else attempts,
        backoff_s=_num(r.number((p, "backoff_s"), minimum=0, maximum=60), d.backoff_s),
        qa_retries=d.qa_retries if qa_retries is None else qa_retries,
        deadline_s=_num(r.number((p, "deadline_s"), minimum=0.1, maximum=86400), d.deadline_s),
        request_timeout_s=_num(r.number((p, "request_timeout_s"), minimum=0.1, maximum=3600),
                               d.request_timeout_s),
    )


def _asset(r: Reader, path: PathKey, base: Path, default: Path | None) -> Path | None:
    value = r.raw(path)
    if not r.has(path) or value == "default":
        return default
    if value is None or value is False or value == "none":
        return None
    file = _inside(r, path, base)
    if file is None:
        return default
    if not file.is_file():
        r.doc.add(path, f"file not found: {r.raw(path)!r} (paths are relative to the show folder)")
        return default
    return file


def _inside(r: Reader, path: PathKey, base: Path, *, also: Path | None = None) -> Path | None:
    """The path written at *path*, resolved, when it stays inside *base* (or *also*).

    Show files may come from anyone's pull request, so a path that is absolute, climbs out
    with ``..`` or is a symbolic link to somewhere else is refused: a build reads and writes
    only inside the show's folders.
    """
    text = r.string(path)
    if text is None:
        return None
    if Path(text).is_absolute() or text.startswith("~"):
        r.doc.add(path, f"must be a path relative to the show folder, not {text!r}")
        return None
    resolved = (base / text).resolve()
    roots = [base.resolve()] + ([also.resolve()] if also else [])
    if not any(resolved.is_relative_to(root) for root in roots):
        how = "leads" if ".." in Path(text).parts else "is a link that leads"
        r.doc.add(path, f"{text!r} {how} outside the show folder; keep the show's files inside it")
        return None
    return resolved


def _lexicon_file(r: Reader, base: Path) -> Path | None:
    if r.has(("lexicon",)):
        return _asset(r, ("lexicon",), base, None)
    beside = base / LEXICON_FILE
    return beside if beside.is_file() and beside.resolve().is_relative_to(base.resolve()) else None


def _folder(r: Reader, path: PathKey, base: Path) -> Path | None:
    folder = _inside(r, path, base)
    if folder is None:
        return None
    if not folder.is_dir():
        r.doc.add(path, f"folder not found: {r.raw(path)!r} (paths are relative to the show folder)")
        return None
    return folder


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


def _music(r: Reader, base: Path) -> Music:
    d = Music()
    if r.mapping(("music",)) is None:
        return d
    r.known_keys(("music",), ("intro", "outro", "lead_in_s", "duck_db", "tail_s", "volume_db"))
    return Music(
        intro=_asset(r, ("music", "intro"), base, d.intro),
        outro=_asset(r, ("music", "outro"), base, d.outro),
        lead_in_s=_num(r.number(("music", "lead_in_s"), minimum=0, maximum=60), d.lead_in_s),
        duck_db=_num(r.number(("music", "duck_db"), minimum=-60, maximum=0), d.duck_db),
        tail_s=_num(r.number(("music", "tail_s"), minimum=0, maximum=120), d.tail_s),
        volume_db=_num(r.number(("music", "volume_db"), minimum=-60, maximum=12), d.volume_db),
    )


def _pauses(r: Reader) -> Pauses:
    d = Pauses()
    if r.mapping(("pauses",)) is None:
        return d
    r.known_keys(("pauses",), ("between_ms", "after_intro_ms", "before_outro_ms"))

    def ms(key: str, default: int) -> int:
        value = r.integer(("pauses", key), minimum=0, maximum=60000)
        return default if value is None else value

    return Pauses(ms("between_ms", d.between_ms), ms("after_intro_ms", d.after_intro_ms),
                  ms("before_outro_ms", d.before_outro_ms))


def _output(r: Reader, base: Path) -> Output:
    d = Output()
    if r.mapping(("output",)) is None:
        return d
    r.known_keys(("output",), ("dir", "sample_rate", "channels", "bitrate"))
    folder = _inside(r, ("output", "dir"), base, also=Path.cwd())
    rate = r.integer(("output", "sample_rate"))
    if rate is not None and rate not in (22050, 24000, 32000, 44100, 48000):
        r.doc.add(("output", "sample_rate"), "must be one of 22050, 24000, 32000, 44100, 48000")
        rate = None
    bitrate = r.choice(("output", "bitrate"), BITRATES)
    return Output(
        dir=folder,
        sample_rate=rate or d.sample_rate,
        channels=r.integer(("output", "channels"), minimum=1, maximum=2) or d.channels,
        bitrate=bitrate or d.bitrate,
    )


def _loudness(r: Reader) -> Loudness:
    d = Loudness()
    if r.mapping(("loudness",)) is None:
        return d
    r.known_keys(("loudness",), ("integrated_lufs", "true_peak_db"))
    return Loudness(
        integrated_lufs=_num(r.number(("loudness", "integrated_lufs"), minimum=-40, maximum=-5),
                             d.integrated_lufs),
        true_peak_db=_num(r.number(("loudness", "true_peak_db"), minimum=-12, maximum=0),
                          d.true_peak_db),
    )


def _limits(r: Reader) -> Limits:
    d = Limits()
    if r.mapping(("limits",)) is None:
        return d
    r.known_keys(("limits",), ("segment_chars", "segments", "episode_minutes"))
    chars = r.integer(("limits", "segment_chars"), minimum=100, maximum=1_000_000)
    segments = r.integer(("limits", "segments"), minimum=3, maximum=10_000)
    return Limits(
        segment_chars=d.segment_chars if chars is None else chars,
        segments=d.segments if segments is None else segments,
        episode_minutes=_num(r.number(("limits", "episode_minutes"), minimum=0.1, maximum=1440),
                             d.episode_minutes),
    )


def _num(value: float | None, default: float) -> float:
    return default if value is None else value
