"""Each show setting is declared once: its default, bounds, choices and doc drive everything.

These tests read the declarations (``podcast/input/settings.py`` over ``Show``) and check that
the real loader honours them from a real ``show.yaml``: every setting is accepted at its
bounds and refused one step beyond with a located error, every choice is accepted and a value
outside them refused, a misspelt key of every section gets a did-you-mean, an absent setting
takes its declared default, and the README's settings reference is the one generated from
the declarations.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podcast.errors import InputError, Problem
from podcast.input import settings
from podcast.input.show import Show, load_show
from podcast.synthesis.run import Policy

ROOT = Path(__file__).resolve().parent.parent


def every_setting(cls: type[Any] = Show, prefix: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], dataclasses.Field[Any], settings.Setting]]:
    """(path, field, declaration) of every declared setting, sections' settings included."""
    for f, spec in settings.declared(cls):
        if spec.section is not None:
            yield from every_setting(spec.section, (*prefix, f.name))
        else:
            yield (*prefix, f.name), f, spec


def value_at(show: Show, path: tuple[str, ...]) -> Any:
    value: Any = show
    for part in path:
        value = getattr(value, part)
    return value


def write_show(folder: Path, path: tuple[str, ...], value: str) -> tuple[Path, int, int]:
    """A show.yaml setting *path* to *value* (YAML text); the value's line and column."""
    lines = [f"{'  ' * depth}{key}:" for depth, key in enumerate(path[:-1])]
    indent = "  " * (len(path) - 1)
    lines.append(f"{indent}{path[-1]}: {value}")
    file = folder / "show.yaml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file, len(lines), len(f"{indent}{path[-1]}: ") + 1


def problems_of(file: Path) -> list[Problem]:
    try:
        load_show(file)
    except InputError as exc:
        return exc.problems
    return []


BOUNDED = [(p, f, s) for p, f, s in every_setting() if s.minimum is not None or s.maximum is not None]
CHOICES = [(p, f, s) for p, f, s in every_setting() if s.choices]


def test_the_declarations_cover_the_settings() -> None:
    names = {".".join(p) for p, _, _ in every_setting()}
    assert {"title", "engine", "voices", "music.lead_in_s", "output.bitrate", "loudness.integrated_lufs",
            "synthesis.request_timeout_s", "limits.segment_chars"} <= names
    assert len(BOUNDED) >= 19 and len(CHOICES) == 2
    assert all(spec.doc.strip() for _, _, spec in every_setting())


@pytest.mark.parametrize("path", [p for p, _, _ in BOUNDED], ids=".".join)
def test_every_bound_is_accepted_and_one_step_beyond_is_refused(path: tuple[str, ...],
                                                                tmp_path: Path) -> None:
    spec = next(s for p, _, s in BOUNDED if p == path)
    whole = spec.kind == "whole number"
    step = 1 if whole else 0.01
    for bound, beyond in ((spec.minimum, -step), (spec.maximum, step)):
        if bound is None:
            continue
        file, _, _ = write_show(tmp_path, path, repr(bound))
        assert problems_of(file) == []
        assert value_at(load_show(file), path) == bound

        outside = bound + beyond if whole else round(bound + beyond, 6)
        file, line, column = write_show(tmp_path, path, repr(outside))
        expected = f"must be between {spec.minimum} and {spec.maximum}, got {outside}"
        assert [str(p) for p in problems_of(file)] == [
            f"{file}:{line}:{column}: {'.'.join(path)}: {expected}"]
    if whole:
        file, line, column = write_show(tmp_path, path, "2.5")
        assert [str(p) for p in problems_of(file)] == [
            f"{file}:{line}:{column}: {'.'.join(path)}: must be a whole number, not a number (2.5)"]


@pytest.mark.parametrize("path", [p for p, _, _ in CHOICES], ids=".".join)
def test_every_choice_is_accepted_and_another_value_refused(path: tuple[str, ...], tmp_path: Path) -> None:
    spec = next(s for p, _, s in CHOICES if p == path)
    for option in spec.choices:
        file, _, _ = write_show(tmp_path, path, str(option))
        assert problems_of(file) == []
        assert value_at(load_show(file), path) == option
    first = spec.choices[0]
    wrong = first + 1 if isinstance(first, int) else f"{first}x"
    file, line, column = write_show(tmp_path, path, str(wrong))
    problems = problems_of(file)
    assert len(problems) == 1
    assert (problems[0].line, problems[0].column, problems[0].field) == (line, column, ".".join(path))
    assert all(str(option) in problems[0].message for option in spec.choices)


@pytest.mark.parametrize("path", [p for p, _, _ in every_setting()], ids=".".join)
def test_a_misspelt_key_gets_a_did_you_mean(path: tuple[str, ...], tmp_path: Path) -> None:
    typo = path[-1][:-1] + path[-1][-1] * 2
    file, line, _ = write_show(tmp_path, (*path[:-1], typo), "1")
    unknown = [p for p in problems_of(file) if "unknown field" in p.message]
    hint = f"unknown field (did you mean {path[-1]!r}?)"
    assert [(p.line, p.column, p.field, p.message) for p in unknown] == [
        (line, 2 * len(path) - 1, ".".join((*path[:-1], typo)), hint)]


def test_an_absent_setting_takes_its_declared_default(tmp_path: Path) -> None:
    (tmp_path / "show.yaml").write_text("music: {}\npauses: {}\nsynthesis: {}\n", encoding="utf-8")
    for show in (Show(), load_show(None), load_show(tmp_path / "show.yaml")):
        for path, f, _ in every_setting():
            assert value_at(show, path) == settings.default_of(f), path


def test_the_synthesis_policy_is_the_shows_settings(tmp_path: Path) -> None:
    (tmp_path / "show.yaml").write_text("synthesis: {attempts: 7, request_timeout_s: 9}\n", encoding="utf-8")
    show = load_show(tmp_path / "show.yaml")
    policy = Policy(show.synthesis, concurrency=2)
    assert (policy.settings.attempts, policy.settings.request_timeout_s) == (7, 9.0)
    assert Policy().settings == Show().synthesis


def test_the_readme_lists_every_setting_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- settings-reference:", 1)[1].split("-->\n", 1)[1]
    table = table.split("<!-- end of settings-reference -->", 1)[0]
    assert table == settings.reference_table(Show)
    for path, _, _ in every_setting():
        assert f"| `{'.'.join(path)}` |" in table
    check = subprocess.run([sys.executable, "scripts/settings_reference.py", "--check"], cwd=ROOT,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
