"""A show folder's issues: which files are issues, in what order, the newest one, the issues a
command acts on (:func:`issues`), and what the cache needs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from podcast.errors import InputError, Problem
from podcast.input.project import check

NOT_ISSUES = {"show.yaml", "lexicon.yaml", "skeleton.yaml"}


def issue_files(folder: Path) -> list[Path]:
    """Issue files directly in *folder* (every ``*.yaml`` but the show's own files), sorted."""
    return sorted(p for p in folder.glob("*.yaml") if p.name not in NOT_ISSUES and not p.name.startswith("."))


def shows_under(folder: Path) -> list[Path]:
    """Folders at or under *folder* that hold issue files."""
    candidates = [folder, *sorted(p for p in folder.rglob("*") if p.is_dir())]
    return [p for p in candidates if issue_files(p)]


def issue_date(path: Path) -> dt.date | None:
    """The ``date`` of an issue file, read cheaply (None when it has none or does not parse)."""
    from podcast.input.yamlio import load_document

    try:
        data = load_document(path).data
    except InputError:
        return None
    value = data.get("date") if isinstance(data, dict) else None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _by_date(folder: Path) -> list[tuple[dt.date | None, Path]]:
    """The issues of *folder* with their dates, oldest first (undated ones first; the file
    name breaks ties)."""
    dated = [(issue_date(p), p) for p in issue_files(folder)]
    return sorted(dated, key=lambda dp: (dp[0] or dt.date.min, dp[1].name))


def _newest(ordered: list[tuple[dt.date | None, Path]]) -> Path | None:
    known = [p for d, p in ordered if d is not None]
    return known[-1] if known else None


def latest(folder: Path) -> Path | None:
    """The issue with the newest date (file name breaks ties); None when no issue has a date."""
    return _newest(_by_date(folder))


def issues(target: Path, *, latest: bool = False) -> list[Path]:
    """The issue files a command acts on, given an issue file or a show folder.

    A file (or anything that is not a folder: reading it reports what is wrong) is the one
    issue. A show folder gives its issues oldest first by date, or with *latest* only the
    newest one (the last by file name when none has a readable date, so that reading it reports
    why). A folder without issue files is an :class:`InputError`.
    """
    if not target.is_dir():
        return [target]
    ordered = _by_date(target)
    if not ordered:
        raise InputError([Problem(target, 1, 1, "(folder)", "no issue files here (*.yaml other than "
                                  f"{', '.join(sorted(NOT_ISSUES))})")])
    if latest:
        return [_newest(ordered) or ordered[-1][1]]
    return [p for _, p in ordered]


def used_keys(folder: Path) -> set[str]:
    """Cache keys of every clip the issues under *folder* use, with the show's engine and its
    fallback (computed offline; issues with errors are skipped)."""
    from podcast.engines import registry
    from podcast.synthesis.run import plan

    keys: set[str] = set()
    shows = shows_under(folder) if folder.is_dir() else []
    if not shows:
        raise InputError([Problem(folder, 1, 1, "--unused-in", "no issue files here: "
                                  "pruning against it would empty the cache")])
    broken = []
    for show_dir in shows:
        for path in issue_files(show_dir):
            project, problems = check(path)
            if project is None:
                broken += [p for p in problems if p.severity == "error"][:1]
                continue
            show = project.show
            for name in filter(None, (show.engine, show.fallback)):
                engine = registry.get(name, **show.options_for(name))
                voice = show.voice_for(engine, project.script.language)
                for p in plan(project.script, engine, voice, lexicon=project.lexicon):
                    keys.update(part.key for part in p.parts)
    if broken:  # their clips cannot be told apart from unused ones: keep everything
        raise InputError(broken)
    return keys


def engine_fingerprint(folder: Path) -> str:
    """A short hash of (engine, engine version, voice settings) of every show under *folder*."""
    import hashlib

    from podcast.engines import registry
    from podcast.input.show import SHOW_FILE, load_show

    parts: list[str] = []
    for show_dir in shows_under(folder):
        show_file = show_dir / SHOW_FILE
        show = load_show(show_file if show_file.is_file() else None)
        for name in filter(None, (show.engine, show.fallback)):
            engine = registry.get(name, **show.options_for(name))
            parts.append(f"{show_dir.name}:{name}:{engine.version()}:{show.voice_spec(name)}")
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:16]
