"""The ``podcast`` command line. Each command parses flags, calls one function, and maps
errors to exit codes: 0 success, 2 invalid input (one line per problem), 1 anything else."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from podcast import __version__
from podcast.errors import InputError, PodcastError

app = typer.Typer(
    name="podcast",
    help="Turn one YAML file per issue into a finished podcast episode.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

T = TypeVar("T")


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _guard(action: Callable[[], T]) -> T:
    """Run *action*, turning our errors into messages and exit codes."""
    try:
        return action()
    except InputError as exc:
        for problem in exc.problems:
            _err(str(problem))
        raise typer.Exit(2) from None
    except PodcastError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None


class _Lines:
    """Plain progress lines on stderr (for logs and pipes)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.total = 0
        self.done = 0

    def warn(self, message: str) -> None:
        _err(f"WARNING: {message}")

    def start(self, total: int) -> None:
        self.total, self.done = total, 0

    def step(self, segment_id: str, cached: bool) -> None:
        self.done += 1
        if not self.quiet:
            _err(f"[{self.done}/{self.total}] {segment_id}: {'cached' if cached else 'synthesized'}")

    def stage(self, name: str) -> None:
        if not self.quiet:
            _err(f"{name}...")

    def note(self, message: str) -> None:
        if not self.quiet:
            _err(message)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"podcast {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Turn one YAML file per issue into a finished podcast episode."""


@app.command()
def build(
    issue: Annotated[Path, typer.Argument(help="Issue YAML file.", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder.")] = None,
    engine: Annotated[str | None, typer.Option(help="TTS engine for this build.")] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        help="Segment cache folder [default: $PODCAST_CACHE_DIR or the user cache].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
) -> None:
    """Build ISSUE into <stem>.mp3 (with chapters and sidecar files) and print its path."""
    from podcast.build import BuildOptions
    from podcast.build import build as run_build

    options = BuildOptions(out_dir=out, engine=engine, cache_dir=cache_dir)
    report = _guard(lambda: run_build(issue, options, _Lines(quiet=as_json)))
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        typer.echo(str(report.mp3))


@app.command()
def voices(
    engine: Annotated[str, typer.Option(help="Engine whose voices to list.")] = "espeak",
    language: Annotated[str | None, typer.Option(help="Only voices for this language.")] = None,
) -> None:
    """List the voices an engine offers."""
    from podcast.engines import registry

    def listing() -> None:
        found = registry.get(engine).voices()
        for v in found:
            if language and not v.language.lower().startswith(language.lower()):
                continue
            typer.echo(f"{v.name}\t{v.language}\t{v.gender}\t{v.description}")

    _guard(listing)


def main() -> None:
    """Entry point of the ``podcast`` script."""
    app(prog_name="podcast")


if __name__ == "__main__":  # pragma: no cover
    main()
