"""Load and check everything about an issue before any audio is made.

:func:`check` runs every check and returns every problem (errors and warnings), each located
in its file: the issue and show YAML, the templates, the engines and voices the show names.
``podcast validate`` prints them; ``podcast build`` runs the same checks first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from podcast.engines import registry
from podcast.engines.base import Engine, Voice
from podcast.errors import EngineUnavailable, InputError, Problem
from podcast.input.issue import Issue, read_issue
from podcast.input.schema import did_you_mean
from podcast.input.show import DEFAULT_MUSIC, Show, find_show, read_show
from podcast.input.yamlio import Document, load_document
from podcast.script.render import Script, render, template_position
from podcast.speech import languages
from podcast.speech.languages import language_for
from podcast.speech.lexicon import Lexicon, default_lexicon, read_lexicon
from podcast.speech.normalize import chunks

T = TypeVar("T")


@dataclass(frozen=True)
class Project:
    """An issue with its show, rendered: everything known before any audio is made."""

    issue: Issue
    show: Show
    script: Script
    lexicon: Lexicon

    @property
    def show_name(self) -> str:
        """The show folder's name (``ai-weekly``)."""
        return self.issue.file.resolve().parent.name


def errors(problems: list[Problem]) -> list[Problem]:
    """Only the problems that are errors."""
    return [p for p in problems if p.severity == "error"]


def check(issue_file: Path, engine: str | None = None) -> tuple[Project | None, list[Problem]]:
    """Every problem of *issue_file* and its show; the project when there is no error."""
    problems: list[Problem] = []
    issue = _read(issue_file, read_issue, problems)
    show_file = find_show(issue_file)
    show = (_read(show_file, read_show, problems) if show_file else None) or Show()
    problems += _music_problems(show)
    lexicon = default_lexicon()
    if show.lexicon is not None:
        own = _read(show.lexicon, read_lexicon, problems)
        lexicon = own.merged_over(lexicon) if own else lexicon
    if issue is None or errors(problems):
        language = (issue.detected_language() if issue else None) or show.language or "en-US"
        problems += _engine_problems(show, issue_file, engine, language, None)
        return None, _sorted(problems)
    try:
        script = render(issue, show)
    except InputError as exc:
        return None, _sorted(problems + exc.problems)
    project = Project(issue, show, script, lexicon)
    problems += _silent_segments(project)
    problems += _notes_problems(project)
    problems += _engine_problems(show, issue_file, engine, script.language, project)
    problems += _warnings(project)
    return (None if errors(problems) else project), _sorted(problems)


def _read(file: Path, reader: Callable[[Document], T], problems: list[Problem]) -> T | None:
    """Parse *file* with *reader*, adding every problem found to *problems*."""
    try:
        doc = load_document(file)
    except InputError as exc:  # unreadable, or not YAML at all
        problems += exc.problems
        return None
    value = reader(doc)
    problems += doc.problems
    return value


def load(issue_file: Path, engine: str | None = None) -> tuple[Project, list[Problem]]:
    """The checked project and its warnings; raises InputError when there is any error."""
    project, problems = check(issue_file, engine)
    if project is None:
        raise InputError(errors(problems) or problems)
    return project, problems


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (str(p.file), p.line, p.column))


def _engine_problems(show: Show, issue_file: Path, chosen: str | None, language: str,
                     project: Project | None) -> list[Problem]:
    """Unknown engines, and voices an engine cannot use (checked offline)."""
    out: list[Problem] = []
    wanted = [("engine", chosen or show.engine)] + ([("fallback", show.fallback)] if show.fallback else [])
    for field, name in wanted:
        try:
            engine = registry.get(name, **show.options_for(name))
        except EngineUnavailable as exc:
            hint = did_you_mean(name, registry.names())
            if chosen and field == "engine":
                out.append(Problem(issue_file, 1, 1, "--engine", f"{exc}{hint}"))
            else:
                out.append(Problem(show.file or issue_file, *show.locate(field), field, f"{exc}{hint}"))
            continue
        problem = engine.config_problem()
        if problem:
            out.append(Problem(show.file or issue_file, *show.locate(name), name, problem))
            continue
        out += voice_problems(show, engine, language, project)
        out += prosody_warnings(show, engine, language, issue_file)
    return out


def prosody_warnings(show: Show, engine: Engine, language: str, issue_file: Path) -> list[Problem]:
    """Voice settings in show.yaml that *engine* does not honour (its capabilities say which)."""
    voice, neutral = show.voice_for(engine, language), Voice("neutral")
    ignored = [key for key, value, default in (("rate", voice.rate, neutral.rate),
                                                ("pitch", voice.pitch, neutral.pitch),
                                                ("volume", voice.volume, neutral.volume))
               if value != default and key not in engine.capabilities.prosody]
    field_name = f"voices.{engine.name}"
    return [Problem(show.file or issue_file, *show.locate(f"{field_name}.{key}"), f"{field_name}.{key}",
                    f"the {engine.name} engine ignores {key}", "warning") for key in ignored]


def voice_problems(show: Show, engine: Engine, language: str, project: Project | None) -> list[Problem]:
    """Voices (the show's, and the entries' own when *project* is given) that *engine* cannot
    use, located in their files."""
    names: dict[str, int | None] = {
        show.voice_for(engine, language).name: None}
    for seg in project.script.segments if project else ():
        for eng, voice in seg.voice.names if seg.voice else ():
            if eng == engine.name:
                names.setdefault(voice, seg.entry)
    out: list[Problem] = []
    for voice, entry in names.items():
        problem = engine.check_voice(voice)
        if problem is None:
            continue
        if entry is None or project is None:
            field_name = f"voices.{engine.name}"
            file = show.file or (project.issue.file if project else Path("show.yaml"))
            out.append(Problem(file, *show.locate(field_name), field_name, problem))
        else:
            item = project.issue.entries[entry - 1]
            out.append(Problem(project.issue.file, item.line, item.column,
                               f"entries[{entry}].voice.{engine.name}", problem))
    return out


def _music_problems(show: Show) -> list[Problem]:
    """The show's own music files that do not decode (a text file named ``intro.mp3``), found
    now rather than by ffmpeg in the middle of a build. (The packaged jingles are tested.)"""
    out: list[Problem] = []
    own = {which: path for which in ("intro", "outro")
           if (path := getattr(show.music, which)) not in (None, DEFAULT_MUSIC[which])}
    if show.file is None or not own:
        return out
    from podcast.audio.ffmpeg import audio_problem  # only then: `validate` starts without numpy

    for which, path in own.items():
        problem = audio_problem(path)
        if problem:
            name = path.relative_to(show.file.parent.resolve()).as_posix()
            out.append(Problem(show.file, *show.locate(f"music.{which}"), f"music.{which}",
                               f"{name!r} {problem}"))
    return out


def _notes_problems(project: Project) -> list[Problem]:
    """Render the show-notes templates once with stand-in times, so that a mistake in them is
    found now rather than after all the audio is made."""
    from podcast.publish.chapters import Chapter
    from podcast.publish.notes import render_notes

    chapters = [Chapter(s.id, s.chapter, float(i), float(i + 1), s.url)
                for i, s in enumerate(project.script.segments)]
    try:
        render_notes(project.issue, project.show, project.script.language, chapters, len(chapters))
    except Exception as exc:
        file, line = template_position("notes")
        message = getattr(exc, "message", None) or str(exc)
        return [Problem(file, line, 1, f"template {file.name}", f"show notes: {message}")]
    return []


def _silent_segments(project: Project) -> list[Problem]:
    """Entries whose summary, and segments whose text, leave nothing to say once pauses, links
    and invisible characters are taken out (an entry would be spoken as just its lead-in)."""
    out: list[Problem] = []
    issue, language = project.issue, project.script.language
    message = "nothing to say once pauses and links are taken out"
    silent: set[int] = set()
    for i, entry in enumerate(issue.entries, start=1):
        if not chunks(entry.summary, language, project.lexicon):
            field = f"entries[{i}].summary"
            out.append(Problem(issue.file, *issue.positions.get(field, (entry.line, entry.column)),
                               field, message))
            silent.add(i)
    for seg in project.script.segments:
        if seg.entry in silent or chunks(seg.text, language, project.lexicon):
            continue
        if seg.entry is not None:
            entry = issue.entries[seg.entry - 1]
            out.append(Problem(issue.file, entry.line, entry.column, f"entries[{seg.entry}].summary",
                               message))
        else:
            out.append(Problem(issue.file, 1, 1, seg.kind, message))
    return out


SKELETON_MARKERS = ("arxiv.org/abs/0000.00000", "(the full narration of this item)",
                    "（在这里写这一条的完整播报稿）", "Model name: what it does", "模型名：一句话说明",
                    "（在這裡寫這一條的完整播報稿）", "模型名：一句話說明")
"""Example text that ``podcast new`` writes (see ``scaffold.py``); left in, it is a mistake."""


def _warnings(project: Project) -> list[Problem]:
    """Things that build but are probably not what the producer wants."""
    out: list[Problem] = []
    issue = project.issue
    for i, entry in enumerate(issue.entries, start=1):
        text = " ".join(filter(None, (entry.title, entry.summary, entry.url)))
        if any(marker in text for marker in SKELETON_MARKERS):
            out.append(Problem(issue.file, entry.line, entry.column, f"entries[{i}]",
                               "still has the example text from `podcast new`", "warning"))
        if entry.url is None:
            out.append(Problem(issue.file, entry.line, entry.column, f"entries[{i}].url",
                               "no link: the show notes will have none for this entry", "warning"))
    if not issue.language and not project.show.language:
        out.append(Problem(issue.file, 1, 1, "language",
                           f"no language set here or in show.yaml; guessed {project.script.language}",
                           "warning"))
    elif language_for(project.script.language) not in languages.TABLE:
        line, column = issue.positions.get("language", (1, 1)) if issue.language else (1, 1)
        out.append(Problem(issue.file, line, column, "language",
                           f"{project.script.language!r} has no rules of its own: its numbers, templates "
                           f"and labels are {languages.FALLBACK.name}'s (see Languages in the README)",
                           "warning"))
    return out


def check_length(project: Project, seconds: float, *, estimate: bool = False) -> None:
    """Raise InputError when an episode of *seconds* is over the show's ``limits.episode_minutes``
    (with *estimate*, *seconds* is the shortest the speech could be, known before synthesis)."""
    limit = project.show.limits.episode_minutes
    if seconds <= limit * 60:
        return
    minutes, secs = divmod(round(seconds), 60)
    length = f"at least {minutes}:{secs:02d}" if estimate else f"{minutes}:{secs:02d}"
    show = project.show
    file, (line, column) = ((show.file, show.locate("limits.episode_minutes")) if show.file
                            else (project.issue.file, (1, 1)))
    raise InputError([Problem(file, line, column, "limits.episode_minutes",
                              f"the episode would be {length} long; the limit is {limit:g} minutes")])
