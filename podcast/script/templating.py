"""The one way templates are rendered: sandboxed, strict, bounded, and only from their folders.

Show templates may come from anyone's pull request, so they run in Jinja2's immutable sandbox
(no ``__class__`` walks to Python internals, no mutating the data, no file or environment
access: the only names a template sees are the values we pass), a template file that is a
symbolic link out of its folder is not loaded, and rendering stops once the output passes a
size bound (a runaway loop then fails with a clear error instead of filling memory).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_OUTPUT_CHARS = 2_000_000
"""Default bound on what one template may produce."""


MAX_STEPS = 1_000_000
"""Loop steps over ``range()`` that one rendering may take in all."""
_MAX_REPEAT = 100_000
"""Longest text or list that ``*`` may build."""


class TemplateTooLarge(Exception):
    """A template produced more text than its bound."""

    def __init__(self, limit: int, filename: str | None) -> None:
        self.message = f"the template produced more than {limit:,} characters (a runaway loop?)"
        self.filename = filename
        super().__init__(self.message)


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus bounds on the work a template can ask for: ``range()`` loops
    share a step budget, and ``*`` / ``**`` cannot build huge strings or numbers."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.steps = 0
        self.globals["range"] = self._range

    def _range(self, *args: int) -> Iterator[int]:
        for value in range(*args):
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise SecurityError(f"the template loops more than {MAX_STEPS:,} times")
            yield value

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("exponent too large for a template")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (isinstance(seq, str | list | tuple) and isinstance(times, int)
                        and len(seq) * times > _MAX_REPEAT):
                    raise SecurityError(f"'*' would build more than {_MAX_REPEAT:,} items")
        return super().call_binop(context, operator, left, right)


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
    return _Sandbox(
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
    template = env.get_template(name)
    if isinstance(env, _Sandbox):
        env.steps = 0
    for piece in template.generate(dict(context)):
        size += len(piece)
        if size > limit:
            raise TemplateTooLarge(limit, template.filename)
        out.append(piece)
    return "".join(out)
