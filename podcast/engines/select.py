"""Which engine voices an episode: the show's, or its fallback when that one is unavailable
or fails to synthesize it.

Every engine answers :meth:`~podcast.engines.base.Engine.probe` (the default says
"available"), so a plugin engine needs no probe of its own for a show to name it with a
fallback. The build, ``podcast preview`` and ``podcast script`` all choose here.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from podcast.engines import registry
from podcast.engines.base import Engine, Voice
from podcast.errors import EngineError, EngineUnavailable, InputError
from podcast.input.project import Project, voice_problems
from podcast.input.show import Show
from podcast.report import Reporter


class Wanted(Protocol):
    """What a run asks for (``BuildOptions`` is one)."""

    @property
    def engine(self) -> str | None:
        """An engine named for this run (``--engine``), else None: the show's."""
        ...


class Choice(NamedTuple):
    """The engine for a build, its host voice, and why the show's own engine was not used."""

    engine: Engine
    voice: Voice
    fallback_reason: str | None


def engine_for(show: Show, name: str) -> Engine:
    """Engine *name* made with the options *show* gives it (raises EngineUnavailable)."""
    return registry.get(name, **show.options_for(name))


def unavailable(name: str, show: Show) -> str | None:
    """Why engine *name* cannot be used now (it cannot load, or its probe says why not), or
    None when it can."""
    try:
        engine = engine_for(show, name)
    except EngineUnavailable as exc:
        return str(exc)
    return engine.probe()


def choose_engine(project: Project, wanted: Wanted, reporter: Reporter) -> Choice:
    """The engine for this build and its voice, with every voice checked before any synthesis.

    ``wanted.engine`` is an engine named for this run (``--engine``), else the show's is used. When
    the show's engine is unavailable (for edge: its service does not answer one short probe)
    and the show names a ``fallback``, the whole episode uses the fallback engine and the
    reason is reported as a warning. An engine named for the run never falls back.
    """
    show = project.show
    name = wanted.engine or show.engine
    reason = unavailable(name, show)
    if reason:
        if not may_fall_back(project, wanted, name):
            raise EngineUnavailable(reason)
        return _fall_back(project, name, f"unavailable ({reason})", reason, reporter)
    return _chosen(project, name, None)


def may_fall_back(project: Project, wanted: Wanted, failed: str) -> bool:
    """Whether this run may use the show's fallback engine instead of engine *failed*: the show
    names one (another engine) and no engine was named for the run."""
    fallback = project.show.fallback
    return not wanted.engine and fallback is not None and fallback != failed


def fall_back(project: Project, wanted: Wanted, failed: Choice, error: EngineError,
              reporter: Reporter) -> Choice:
    """The show's fallback engine, for the whole episode, after *failed*'s engine failed to
    synthesize it with *error* (the warning and the report say why); raises *error* when this
    run may not fall back."""
    name = failed.engine.name
    if not may_fall_back(project, wanted, name):
        raise error
    return _fall_back(project, name, f"failed ({error})", str(error), reporter)


def _fall_back(project: Project, failed: str, how: str, reason: str, reporter: Reporter) -> Choice:
    name = project.show.fallback
    assert name is not None
    reporter.warn(f"engine {failed!r} {how}; building the whole episode with fallback engine {name!r}")
    second = unavailable(name, project.show)
    if second:
        raise EngineUnavailable(f"fallback engine {name!r} is unavailable too: {second}")
    return _chosen(project, name, reason)


def _chosen(project: Project, name: str, fallback_reason: str | None) -> Choice:
    """Engine *name* with its voice for the episode, every voice checked."""
    show = project.show
    engine = engine_for(show, name)
    # checked again here: a service that answered the probe has told us its own voice list
    problems = voice_problems(show, engine, project.script.language, project)
    if problems:
        raise InputError(problems)
    return Choice(engine, show.voice_for(engine, project.script.language), fallback_reason)
