"""The one way templates are rendered: sandboxed, strict, bounded, and only from their folders.

Show templates may come from anyone's pull request, so they run in Jinja2's immutable sandbox
(no ``__class__`` walks to Python internals, no mutating the data, no file or environment
access: the only names a template sees are the values we pass), a template file that is a
symbolic link out of its folder is not loaded, and rendering stops once the output passes a
size bound (a runaway loop then fails with a clear error instead of filling memory).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT_CHARS = 2_000_000
"""Default bound on what one template may produce."""


class TemplateTooLarge(Exception):
    """A template produced more text than its bound."""

    def __init__(self, limit: int) -> None:
        self.message = f"the template produced more than {limit:,} characters (a runaway loop?)"
        super().__init__(self.message)


class _ContainedLoader(jinja2.FileSystemLoader):
    """A file loader that refuses template files whose real path leaves their folder."""

    def __init__(self, folders: list[Path]) -> None:
        super().__init__([str(f) for f in folders])
        self._roots = [f.resolve() for f in folders]

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        if not any(real.is_relative_to(root) for root in self._roots):
            raise jinja2.TemplateNotFound(template, f"template {template} is a link that leads outside "
                                          "its folder")
        return source, filename, uptodate


def environment(folders: list[Path], *, autoescape: bool = False) -> jinja2.Environment:
    """A sandboxed environment loading from *folders* (first match wins); undefined names are
    errors, so a typo never becomes silent speech."""
    return ImmutableSandboxedEnvironment(
        loader=_ContainedLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(env: jinja2.Environment, name: str, context: Mapping[str, Any],
           limit: int = MAX_OUTPUT_CHARS) -> str:
    """Render template *name* with *context*, stopping with :class:`TemplateTooLarge` once the
    output passes *limit* characters."""
    out: list[str] = []
    size = 0
    for piece in env.get_template(name).generate(dict(context)):
        size += len(piece)
        if size > limit:
            raise TemplateTooLarge(limit)
        out.append(piece)
    return "".join(out)
