"""Engines by name: built-in and third-party engines register through the same entry points.

An engine package declares ``[project.entry-points."podcast.engines"] name = "module:Class"``,
where the class derives from :class:`podcast.engines.base.Engine`. Tests and plugins can also
call :func:`register` at run time. Imports are lazy: an engine's module is only imported when
that engine is asked for (or its option schema, to check a show), and an engine that cannot
load says why.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

from podcast.engines.base import Engine
from podcast.engines.options import Option
from podcast.errors import EngineUnavailable

GROUP = "podcast.engines"

Factory = Callable[..., Engine]
_Key = tuple[str, tuple[tuple[str, Any], ...]]

_registered: dict[str, Factory] = {}
_schemas: dict[str, tuple[Option, ...]] = {}
_instances: dict[_Key, tuple[Engine, Factory]] = {}
"""Engines made by :func:`get`, with the factory that made each."""


def register(name: str, factory: Factory, options: tuple[Option, ...] | None = None) -> None:
    """Make *factory* available as engine *name* (replaces an earlier registration).

    *options* is the schema of its show.yaml section; by default that of *factory* when it is
    an :class:`Engine` class, else none.
    """
    _registered[name] = factory
    _schemas[name] = _schema_of(factory) if options is None else options
    _forget(name)


def unregister(name: str) -> None:
    """Forget an engine registered with :func:`register`."""
    _registered.pop(name, None)
    _schemas.pop(name, None)
    _forget(name)


def _schema_of(factory: object) -> tuple[Option, ...]:
    return factory.options if isinstance(factory, type) and issubclass(factory, Engine) else ()


def _forget(name: str) -> None:
    for key in [k for k in _instances if k[0] == name]:
        del _instances[key]


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=GROUP)}


def names() -> list[str]:
    """Every engine name known, registered or installed."""
    return sorted(set(_registered) | set(_entry_points()))


def _factory(name: str) -> Factory:
    """What makes engine *name*: a registered factory, else the class its entry point names."""
    factory = _registered.get(name)
    if factory is not None:
        return factory
    ep = _entry_points().get(name)
    if ep is None:
        known = ", ".join(names()) or "none"
        raise EngineUnavailable(f"unknown engine {name!r}; installed engines: {known}")
    try:
        loaded = ep.load()
    except Exception as exc:  # an engine whose module cannot import is unavailable
        raise EngineUnavailable(f"engine {name!r} cannot be loaded: {exc}") from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Engine)):
        raise EngineUnavailable(f"engine {name!r} ({ep.value}) is not a subclass of "
                                "podcast.engines.base.Engine")
    return loaded


def option_schema(name: str) -> tuple[Option, ...]:
    """The options engine *name* accepts in its show.yaml section (imports its module, without
    making the engine). Raises :class:`EngineUnavailable` like :func:`get`."""
    if name in _registered:
        return _schemas.get(name, ())
    return _schema_of(_factory(name))


def get(name: str, **options: Any) -> Engine:
    """The engine called *name*, created once per set of options.

    Raises :class:`EngineUnavailable` for an unknown name, an engine that cannot load here, or
    one that does not keep the contract (is not an :class:`Engine`).
    """
    key = (name, tuple(sorted(options.items())))
    if key in _instances:
        return _instances[key][0]
    factory = _factory(name)
    engine = factory(**options)
    if not isinstance(engine, Engine):
        raise EngineUnavailable(f"engine {name!r} made a {type(engine).__name__}, which is not a "
                                "podcast.engines.base.Engine")
    _instances[key] = (engine, factory)
    return engine


def origin(engine: Engine) -> tuple[Factory, dict[str, Any]] | None:
    """The factory and options that made *engine* through :func:`get` (so that another process
    can make its own copy), or None for an engine made some other way."""
    for (_name, options), (made, factory) in _instances.items():
        if made is engine:
            return factory, dict(options)
    return None
