"""The ``podcast`` command line. Each command parses flags, calls one function, and maps
errors to exit codes: 0 success, 2 invalid input (one line per problem), 1 anything else.

Stopped by a signal, a command says so in one line and exits with 128 plus its number: 130
for Ctrl-C (SIGINT), 143 for SIGTERM (a CI timeout, ``docker stop``, systemd), 129 for SIGHUP
(the terminal closed). SIGTERM and SIGHUP are raised as :class:`Stopped` wherever the
main thread is, so the command unwinds as from Ctrl-C: engine workers are stopped, staged
outputs and temporary folders are removed, finished clips stay cached.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from podcast import __version__
from podcast.errors import InputError, PodcastError, UsageError
from podcast.progress import Lines, reporter_for
from podcast.progress import err as _err

if TYPE_CHECKING:
    from podcast.build import BuildOptions, BuildReport

app = typer.Typer(
    name="podcast",
    help="Turn one YAML file per issue into a finished podcast episode.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
cache_app = typer.Typer(help="Inspect and prune the segment cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

T = TypeVar("T")

CacheDir = Annotated[Path | None, typer.Option(
    "--cache-dir", help="Segment cache folder [default: $PODCAST_CACHE_DIR or the user cache].")]
EngineOpt = Annotated[str | None, typer.Option("--engine", help="TTS engine for this run.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors, warnings and the result.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Retries, stage timings and details.")]
Latest = Annotated[bool, typer.Option("--latest", help="With a show folder: only its newest issue.")]
OneIssue = Annotated[Path, typer.Argument(
    help="Issue YAML file, or a show folder (its newest issue).", metavar="TARGET", show_default=False)]


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(SystemExit):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, then exit with 128 + its number.

    A :class:`SystemExit`, so that no ``except Exception`` swallows it, the event loop stops
    its tasks (as for Ctrl-C) and Click lets it through to :func:`main`.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"interrupted by {signal.Signals(self.signum).name}"


def _stop(signum: int, frame: FrameType | None) -> None:
    for other in STOP_SIGNALS:  # the cleanup runs once, undisturbed by a second signal
        signal.signal(other, signal.SIG_IGN)
    raise Stopped(signum)


def _handle_signals() -> None:
    """Raise :class:`Stopped` on SIGTERM and SIGHUP (unless ignored, as under ``nohup``)."""
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _stop)


def _guard(action: Callable[[], T]) -> T:
    """Run *action*, turning our errors into messages and exit codes."""
    try:
        return action()
    except InputError as exc:
        for problem in exc.problems:
            _err(str(problem))
        raise typer.Exit(2) from None
    except UsageError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(2) from None
    except PodcastError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    except OSError as exc:  # a folder we cannot write, a disk that is full, ...
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None


def _issues(target: Path, latest: bool = False) -> list[Path]:
    """The issue files *target* (an issue file or a show folder) stands for: every command that
    takes an issue goes through here (:func:`podcast.input.catalog.issues`)."""
    from podcast.input.catalog import issues

    return _guard(lambda: issues(target, latest=latest))


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


def _summary(report: BuildReport) -> None:
    minutes, seconds = divmod(int(report.duration_s + 0.5), 60)
    seg = report.segments
    if report.skipped:
        _err(f"up to date: {report.mp3}")
        return
    encode = report.timings.encode if report.timings else None
    sections = (f"{encode.sections} sections ({encode.encoded} encoded, {encode.cached} from cache), "
                if encode else "")
    _err(f"built {report.mp3.name}: {minutes}:{seconds:02d}, {seg.total} segments "
         f"({seg.synthesized} synthesized, {seg.cached} from cache), {sections}engine {report.engine}, "
         f"{report.loudness.integrated_lufs:.1f} LUFS, {report.loudness.true_peak_db:.1f} dBTP")
    for path in report.outputs:
        _err(f"  {path}")


@app.command()
def build(
    target: Annotated[Path, typer.Argument(help="Issue YAML file, or a show folder (every issue).",
                                           metavar="TARGET", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder.")] = None,
    engine: EngineOpt = None,
    cache_dir: CacheDir = None,
    concurrency: Annotated[int | None, typer.Option(min=1, max=32,
                                                    help="Parallel engine requests.")] = None,
    latest: Latest = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even when the outputs are up to date.")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Build an episode (MP3, chapters, transcripts, show notes) and print the MP3's path.

    An episode whose outputs were built from exactly the same inputs is left alone (use
    --force to rebuild). Given a show folder, build every issue in it that is out of date,
    oldest first (or, with --latest, the newest issue); one that fails does not stop the
    others, and --json prints a list.
    """
    from podcast.build import BuildOptions

    options = BuildOptions(out_dir=out, engine=engine, cache_dir=cache_dir, concurrency=concurrency,
                           skip_up_to_date=not force)
    issues = _issues(target, latest)
    reports: list[BuildReport] = []
    codes: list[int] = []
    for issue in issues:
        try:
            reports.append(_build_one(issue, options, as_json, quiet, verbose))
        except typer.Exit as exc:  # the problem is already reported; go on with the next issue
            if exc.exit_code > 128:  # interrupted: stop
                raise
            codes.append(exc.exit_code)
    many = target.is_dir()
    if as_json:
        shown = [r.as_json() for r in reports]
        if shown or many:
            typer.echo(json.dumps(shown if many else shown[0], ensure_ascii=False, indent=2))
    else:
        for report in reports:
            typer.echo(str(report.mp3))
    if codes:
        if many:
            _err(f"error: {len(codes)} of {len(issues)} issues failed to build")
        raise typer.Exit(max(codes))


def _build_one(issue: Path, options: BuildOptions, as_json: bool, quiet: bool,
               verbose: bool) -> BuildReport:
    from podcast.build import build as run_build

    reporter = reporter_for(quiet, verbose, as_json)
    try:
        report = _guard(lambda: run_build(issue, options, reporter))
    finally:
        reporter.finish()
    if not (quiet or as_json):
        _summary(report)
    return report


@app.command()
def validate(
    targets: Annotated[list[Path], typer.Argument(help="Issue YAML files or show folders (every issue).",
                                                  metavar="TARGET", show_default=False)],
    strict: Annotated[bool, typer.Option(help="Warnings fail too.")] = False,
    latest: Latest = False,
    engine: EngineOpt = None,
) -> None:
    """Report every problem of each issue (and its show) as FILE:LINE:COLUMN: FIELD: message.

    A show folder stands for every issue in it, oldest first (with --latest, the newest).
    """
    from dataclasses import replace

    from podcast.input.project import check
    from podcast.input.show import feed_problems

    failed = False
    issues: list[Path] = []
    for target in targets:
        try:
            issues += _issues(target, latest)
        except typer.Exit:  # reported; check the other targets all the same
            failed = True
    for path in issues:
        project, problems = _guard(functools.partial(check, path, engine))
        if project is not None and project.show.file:  # a show that will publish a feed
            problems += [replace(p, severity="warning", message="not set: `podcast feed` needs it")
                         for p in feed_problems(project.show, path.parent)]
        for problem in problems:
            _err(str(problem))
        bad = [p for p in problems if p.severity == "error" or strict]
        failed = failed or bool(bad)
        if not bad and project is not None:
            warnings = len(problems)
            noun = "warning" if warnings == 1 else "warnings"
            typer.echo(f"{path}: ok ({len(project.script.segments)} segments"
                       f"{f', {warnings} {noun}' if warnings else ''})")
    if failed:
        raise typer.Exit(2)


@app.command()
def script(
    target: OneIssue,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text, json or md.")] = "text",
    engine: EngineOpt = None,
) -> None:
    """Print the narration exactly as it will be spoken: segment id, chapter, voice, text.

    Given a show folder, the newest issue in it.
    """
    from podcast.script.listing import narration, to_markdown, to_text

    if fmt not in ("text", "json", "md"):
        _err(f"error: --format must be text, json or md, not {fmt!r}")
        raise typer.Exit(2)
    [issue] = _issues(target, latest=True)
    lines = _guard(lambda: narration(issue, engine))
    if fmt == "json":
        typer.echo(json.dumps([line.as_json() for line in lines], ensure_ascii=False, indent=2))
    else:
        typer.echo(to_markdown(lines) if fmt == "md" else to_text(lines), nl=False)


@app.command()
def preview(
    target: OneIssue,
    segment: Annotated[str, typer.Argument(help="Segment id, 1-based index, or the start of a title.",
                                           show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (.wav or .mp3).")] = None,
    play: Annotated[bool, typer.Option("--play", help="Play it through a player on this machine.")]
    = False,
    engine: EngineOpt = None,
    cache_dir: CacheDir = None,
) -> None:
    """Synthesize one segment only and write it as audio; print its path and duration.

    Given a show folder, a segment of the newest issue in it.
    """
    from podcast.audio.player import play as play_file
    from podcast.build import BuildOptions
    from podcast.preview import preview as run_preview

    [issue] = _issues(target, latest=True)
    options = BuildOptions(engine=engine, cache_dir=cache_dir)
    result = _guard(lambda: run_preview(issue, segment, out, options, Lines(quiet=True)))
    state = "synthesized" if result.synthesized else "from cache"
    typer.echo(f"{result.path}\t{result.duration_s:.2f} s\t{result.segment}\t{state}\t{result.engine}")
    if play:
        try:
            _err(f"played with {play_file(result.path)}")
        except PodcastError as exc:
            _err(str(exc))


@app.command()
def new(
    show_dir: Annotated[Path, typer.Argument(help="Show folder.", show_default=False)],
    date: Annotated[str | None, typer.Option(help="Issue date YYYY-MM-DD [default: a week after "
                                                  "the newest issue].")] = None,
    language: Annotated[str | None, typer.Option(help="Language of a new show (zh-CN, en-US, ...).")]
    = None,
) -> None:
    """Create the next issue file from the show's skeleton and print its path.

    A show folder that does not exist yet is created, with a commented show.yaml.
    """
    from podcast.input.scaffold import new_issue
    from podcast.input.schema import FIRST_DATE, LAST_DATE

    try:
        day = dt.date.fromisoformat(date) if date else None
        if day is not None and not FIRST_DATE <= day <= LAST_DATE:
            raise ValueError
    except ValueError:
        _err(f"error: --date must be a date YYYY-MM-DD from {FIRST_DATE} to {LAST_DATE}, not {date!r}")
        raise typer.Exit(2) from None
    issue, show = _guard(lambda: new_issue(show_dir, day, language))
    if show is not None:
        _err(f"created {show}: fill in the show's title, author and e-mail")
    typer.echo(str(issue))


@app.command()
def voices(
    engine: Annotated[str, typer.Option(help="Engine whose voices to list.")] = "espeak",
    language: Annotated[str | None, typer.Option(help="Only voices for this language.")] = None,
) -> None:
    """List the voices an engine offers."""
    from podcast.engines import registry

    def listing() -> None:
        for v in registry.get(engine).voices():
            if language and not v.language.lower().startswith(language.lower()):
                continue
            typer.echo(f"{v.name}\t{v.language}\t{v.gender}\t{v.description}")

    _guard(listing)


@app.command()
def feed(
    show_dir: Annotated[Path, typer.Argument(help="Show folder.", show_default=False)],
    base_url: Annotated[str, typer.Option("--base-url", help="Public URL where the output folder "
                                                             "is served.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder with the built episodes "
                                                                 "[default: the show's output folder].")]
    = None,
) -> None:
    """Write feed.xml (RSS 2.0, iTunes and Podcasting 2.0) for every built episode of a show."""
    from podcast.publish.feed import write_feed

    path, notes = _guard(lambda: write_feed(show_dir, base_url, out))
    for note in notes:
        _err(note)
    typer.echo(str(path))


@app.command("list")
def list_issues(
    show_dir: Annotated[Path, typer.Argument(help="Show folder.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="A JSON array (for CI matrices).")] = False,
) -> None:
    """List the issue files of a show folder, oldest first by date."""
    paths = [str(p) for p in _issues(show_dir)]
    typer.echo(json.dumps(paths) if as_json else "\n".join(paths))


@cache_app.command("key")
def cache_key(
    folder: Annotated[Path, typer.Argument(help="Folder with the show(s).", show_default=False)],
) -> None:
    """A short hash of the engines, engine versions and voices the shows under FOLDER use:
    a CI cache key that changes when a voice or engine changes."""
    from podcast.input.catalog import engine_fingerprint

    typer.echo(_guard(lambda: engine_fingerprint(folder)))


@cache_app.command("info")
def cache_info(cache_dir: CacheDir = None) -> None:
    """Where the cache is, how many clips and encoded sections it holds and their size."""
    from podcast.infra.cache import ClipCache, SectionCache

    clips, sections = ClipCache(cache_dir).stats(), SectionCache(cache_dir).stats()
    typer.echo(f"location: {clips.location}\nentries: {clips.entries}\n"
               f"size: {clips.bytes / 1e6:.1f} MB\n"
               f"encoded sections: {sections.entries} ({sections.bytes / 1e6:.1f} MB)")


@cache_app.command("prune")
def cache_prune(
    unused_in: Annotated[Path | None, typer.Option(
        "--unused-in", help="Remove clips that no issue under this folder uses.")] = None,
    older_than: Annotated[float | None, typer.Option(
        "--older-than", min=0, help="Remove clips not used for this many days.")] = None,
    cache_dir: CacheDir = None,
) -> None:
    """Remove clips no issue uses and/or clips unused for N days (both must hold if both given),
    and the encoded sections made from them or unused as long."""
    from podcast.infra.cache import ClipCache, SectionCache
    from podcast.input.catalog import used_keys

    if unused_in is None and older_than is None:
        _err("error: give --unused-in FOLDER and/or --older-than DAYS")
        raise typer.Exit(2)
    keep = _guard(lambda: used_keys(unused_in)) if unused_in else None
    removed, freed = ClipCache(cache_dir).prune(keep, older_than)
    sections, section_bytes = SectionCache(cache_dir).prune(keep, older_than)
    typer.echo(f"removed {removed} entries, freed {freed / 1e6:.1f} MB; "
               f"removed {sections} encoded sections, freed {section_bytes / 1e6:.1f} MB")


def main() -> None:
    """Entry point of the ``podcast`` script."""
    _handle_signals()
    try:
        app(prog_name="podcast")
    except Stopped as exc:
        _err(str(exc))
        sys.exit(exc.code)


if __name__ == "__main__":  # pragma: no cover
    main()
