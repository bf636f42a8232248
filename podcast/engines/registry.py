"""Engines by name: built-in and third-party engines register through the same entry points.

An engine package declares ``[project.entry-points."podcast.engines"] name = "module:Class"``.
Tests and plugins can also call :func:`register` at run time. Imports are lazy: an engine's
module is only imported when that engine is asked for, and an engine that cannot load says why.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

from podcast.engines.base import Engine
from podcast.errors import EngineUnavailable

GROUP = "podcast.engines"

Factory = Callable[..., Engine]
_Key = tuple[str, tuple[tuple[str, Any], ...]]

_registered: dict[str, Factory] = {}
_instances: dict[_Key, tuple[Engine, Factory]] = {}
"""Engines made by :func:`get`, with the factory that made each."""


def register(name: str, factory: Factory) -> None:
    """Make *factory* available as engine *name* (replaces an earlier registration)."""
    _registered[name] = factory
    _forget(name)


def unregister(name: str) -> None:
    """Forget an engine registered with :func:`register`."""
    _registered.pop(name, None)
    _forget(name)


def _forget(name: str) -> None:
    for key in [k for k in _instances if k[0] == name]:
        del _instances[key]


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=GROUP)}


def names() -> list[str]:
    """Every engine name known, registered or installed."""
    return sorted(set(_registered) | set(_entry_points()))


def get(name: str, **options: Any) -> Engine:
    """The engine called *name*, created once per set of options.

    Raises :class:`EngineUnavailable` for an unknown name or an engine that cannot load here.
    """
    key = (name, tuple(sorted(options.items())))
    if key in _instances:
        return _instances[key][0]
    factory = _registered.get(name)
    if factory is None:
        ep = _entry_points().get(name)
        if ep is None:
            known = ", ".join(names()) or "none"
            raise EngineUnavailable(f"unknown engine {name!r}; installed engines: {known}")
        try:
            factory = ep.load()
        except Exception as exc:  # an engine whose module cannot import is unavailable
            raise EngineUnavailable(f"engine {name!r} cannot be loaded: {exc}") from exc
    engine = factory(**options)
    _instances[key] = (engine, factory)
    return engine


def origin(engine: Engine) -> tuple[Factory, dict[str, Any]] | None:
    """The factory and options that made *engine* through :func:`get` (so that another process
    can make its own copy), or None for an engine made some other way."""
    for (_name, options), (made, factory) in _instances.items():
        if made is engine:
            return factory, dict(options)
    return None
