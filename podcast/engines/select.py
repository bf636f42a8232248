"""Which engine voices an episode: the show's, or its fallback when that one is unavailable.

Every engine answers :meth:`~podcast.engines.base.Engine.probe` (the default says
"available"), so a plugin engine needs no probe of its own for a show to name it with a
fallback. The build, ``podcast preview`` and ``podcast script`` all choose here.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from podcast.engines import registry
from podcast.engines.base import Engine, Voice
from podcast.errors import EngineUnavailable, InputError
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
    requested = wanted.engine
    name = requested or show.engine
    reason = unavailable(name, show)
    fallback_reason = None
    if reason:
        if requested or not show.fallback:
            raise EngineUnavailable(reason)
        fallback_reason = reason
        reporter.warn(f"engine {name!r} unavailable ({reason}); "
                      f"building the whole episode with fallback engine {show.fallback!r}")
        name = show.fallback
        second = unavailable(name, show)
        if second:
            raise EngineUnavailable(f"fallback engine {name!r} is unavailable too: {second}")
    engine = engine_for(show, name)
    # checked again here: a service that answered the probe has told us its own voice list
    problems = voice_problems(show, engine, project.script.language, project)
    if problems:
        raise InputError(problems)
    return Choice(engine, show.voice_for(engine, project.script.language), fallback_reason)
