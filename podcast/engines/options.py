"""An engine's own options: the schema it declares, and the values a show gives it.

A show configures an engine in a section named after it (``edge: {endpoint: ...}`` in
show.yaml). Each engine declares what that section may hold as a tuple of :class:`Option`
(name, type, default, bounds, doc); ``podcast validate`` checks the section against exactly
that engine's schema (located problems, did-you-mean), and the engine reads its values back,
defaults filled in, through :class:`OptionValues`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from podcast.input.schema import describe

OptionValue = str | int | float | bool | None
"""What an option may hold (``None``: not set, use the default)."""

_KINDS: dict[type, str] = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}


@dataclass(frozen=True)
class Option:
    """One setting an engine accepts in its show.yaml section."""

    name: str
    kind: type
    """``str``, ``int``, ``float`` (an integer is accepted) or ``bool``."""
    default: OptionValue
    doc: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    """For text: the only values allowed (empty: any text)."""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise TypeError(f"option {self.name!r}: kind must be one of str, int, float, bool")

    def problem(self, value: object) -> str | None:
        """Why *value* is not acceptable for this option (``None`` is: it means the default)."""
        if value is None:
            return None
        expected = _KINDS[self.kind]
        if self.kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = type(value) is self.kind
        if not ok:
            return f"must be {expected}, not {describe(value)}"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}, got {value!r}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = self.minimum, self.maximum
            if (low is not None and value < low) or (high is not None and value > high):
                return f"{_bounds(low, high)}, got {value}"
        if isinstance(value, str) and not value.strip():
            return "must not be empty"
        return None

    def canonical(self, value: OptionValue) -> OptionValue:
        """*value* in its declared type (a float option given ``2`` holds ``2.0``)."""
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value


def _bounds(low: float | None, high: float | None) -> str:
    if low is None:
        return f"must be at most {high:g}"
    if high is None:
        return f"must be at least {low:g}"
    return f"must be between {low:g} and {high:g}"


class OptionValues(Mapping[str, OptionValue]):
    """An engine's option values: every declared option, given or default, checked."""

    def __init__(self, schema: tuple[Option, ...], given: Mapping[str, object], engine: str) -> None:
        declared = {option.name: option for option in schema}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ValueError(f"{engine}: unknown option {unknown[0]!r}; "
                             f"it takes {', '.join(declared) or 'no options'}")
        values: dict[str, OptionValue] = {}
        for name, option in declared.items():
            value = given.get(name)
            problem = option.problem(value)
            if problem:
                raise ValueError(f"{engine}.{name}: {problem}")
            assert value is None or isinstance(value, str | int | float | bool)
            values[name] = option.canonical(option.default if value is None else value)
        self._values = values

    def __getitem__(self, name: str) -> OptionValue:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def text(self, name: str) -> str | None:
        """A text option (``None`` when unset and without a default)."""
        value = self._values[name]
        assert value is None or isinstance(value, str)
        return value

    def number(self, name: str) -> float:
        """A number option."""
        value = self._values[name]
        assert isinstance(value, int | float) and not isinstance(value, bool)
        return float(value)

    def integer(self, name: str) -> int:
        """A whole-number option."""
        value = self._values[name]
        assert isinstance(value, int) and not isinstance(value, bool)
        return value

    def flag(self, name: str) -> bool:
        """A true/false option."""
        value = self._values[name]
        assert isinstance(value, bool)
        return value
