"""Load and check everything about an issue before any audio is made.

:func:`check` runs every check and returns every problem (errors and warnings), each located
in its file: the issue and show YAML, the templates, the engines and voices the show names.
``podcast validate`` prints them; ``podcast build`` runs the same checks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podcast.engines import registry
from podcast.engines.base import Engine
from podcast.errors import EngineUnavailable, InputError, Problem
from podcast.issue import Issue, read_issue
from podcast.schema import did_you_mean
from podcast.script import Script, render
from podcast.show import Show, find_show, read_show
from podcast.yamlio import load_document


@dataclass(frozen=True)
class Project:
    """An issue with its show, rendered: everything known before any audio is made."""

    issue: Issue
    show: Show
    script: Script
    lexicon: Any = None

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
    issue: Issue | None = None
    try:
        doc = load_document(issue_file)
        issue = read_issue(doc)
        problems += doc.problems
    except InputError as exc:
        problems += exc.problems
    show = Show()
    show_file = find_show(issue_file)
    if show_file is not None:
        try:
            show_doc = load_document(show_file)
            show = read_show(show_doc)
            problems += show_doc.problems
        except InputError as exc:
            problems += exc.problems
    if issue is None or errors(problems):
        return None, _sorted(problems)
    try:
        script = render(issue, show)
    except InputError as exc:
        return None, _sorted(problems + exc.problems)
    project = Project(issue, show, script)
    problems += _engine_problems(project, engine)
    problems += _warnings(project)
    return (None if errors(problems) else project), _sorted(problems)


def load(issue_file: Path, engine: str | None = None) -> tuple[Project, list[Problem]]:
    """The checked project and its warnings; raises InputError when there is any error."""
    project, problems = check(issue_file, engine)
    if project is None:
        raise InputError(errors(problems) or problems)
    return project, problems


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (str(p.file), p.line, p.column))


def _engine_problems(project: Project, chosen: str | None) -> list[Problem]:
    """Unknown engines, and voices an engine cannot use (checked offline)."""
    show = project.show
    where = show.file or project.issue.file
    out: list[Problem] = []
    wanted = [("engine", chosen or show.engine)] + ([("fallback", show.fallback)] if show.fallback else [])
    for field, name in wanted:
        try:
            engine = registry.get(name, **show.options_for(name))
        except EngineUnavailable as exc:
            line, col = show.locate(field) if show.file and not chosen else (1, 1)
            hint = did_you_mean(name, registry.names())
            out.append(Problem(where if not chosen else project.issue.file, line, col,
                               field if not chosen else "--engine", f"{exc}{hint}"))
            continue
        out += voice_problems(project, engine)
    return out


def voice_problems(project: Project, engine: Engine) -> list[Problem]:
    """Voices (the show's and the entries' own) that *engine* cannot use, located."""
    show = project.show
    names: dict[str, int | None] = {
        show.voice_spec(engine.name).resolve(engine.default_voice(project.script.language)).name: None}
    for seg in project.script.segments:
        for eng, voice in seg.voice.names if seg.voice else ():
            if eng == engine.name:
                names.setdefault(voice, seg.entry)
    out: list[Problem] = []
    for voice, entry in names.items():
        problem = engine.check_voice(voice)
        if problem is None:
            continue
        if entry is None:
            field_name = f"voices.{engine.name}"
            out.append(Problem(show.file or project.issue.file, *show.locate(field_name), field_name,
                               problem))
        else:
            line = project.issue.entries[entry - 1].line
            out.append(Problem(project.issue.file, line, 1, f"entries[{entry}].voice.{engine.name}",
                               problem))
    return out


def _warnings(project: Project) -> list[Problem]:
    """Things that build but are probably not what the producer wants."""
    out: list[Problem] = []
    issue = project.issue
    for i, entry in enumerate(issue.entries, start=1):
        if entry.url is None:
            out.append(Problem(issue.file, entry.line, 1, f"entries[{i}].url",
                               "no link: the show notes will have none for this entry", "warning"))
    if not issue.language and not project.show.language:
        out.append(Problem(issue.file, 1, 1, "language",
                           f"no language set here or in show.yaml; guessed {project.script.language}",
                           "warning"))
    return out
