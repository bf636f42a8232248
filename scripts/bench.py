"""Benchmark the producer on this machine and write ``docs/benchmarks.md`` (issue 9, "Fast at any length").

    pip install -e ".[dev,bench]"
    python scripts/bench.py                  # full run (30-40 minutes on 2 CPUs)
    python scripts/bench.py --quick          # smoke run: 1 repeat, short episodes, not written to docs/

Every case runs ``--repeat`` times (default 3) and the medians are reported, with the range.
Everything a user runs goes through the CLI in a subprocess (``python -m podcast ...``); peak
memory is the child's ``ru_maxrss`` from ``wait4`` (the largest single process of the tree: the
Python process or one of its ffmpeg children), each child started from a small launcher process.
The report records the commit measured and warns when ``podcast/`` changed during the run.

The build caches two things: synthesized clips (``<cache>/clips``) and encoded sections of the
episode (``<cache>/sections``: ``podcast.audio.encode.encode_normalized`` cuts the episode into
sections between segments and encodes each on its own, two at a time on 2 CPUs). Which of them a
case starts with is part of its definition:

- the sample issue (``seeds/ai-weekly/2024-02-3.yaml``) with the offline engine
  (``--engine espeak``): cold build into an empty cache; cached rebuild with ``--force`` (clips
  and encoded sections cached, as a producer's cache holds them); the same rebuild with the
  sections cache emptied first (the cost of assembling the sample); the "up to date" no-op
  rebuild; rebuild after editing one entry's summary, from the cache of the unedited build
  (sections included; it re-encodes only the sections the edit touches); ``podcast preview`` of
  that segment (cold cache and cached); and the synthesis of that one segment alone (a fresh
  process running the build's own plan + synthesize.run into an empty cache, timed around the
  synthesis only);
- assembly of synthetic 10/30/60/90-minute episodes made of 20-second clips (3 per minute, 2 per
  segment): ``podcast build --force --engine espeak`` with every clip already in the cache and
  the sections cache emptied before every run (so it measures mixing, loudness and encoding,
  not cache reads), next to (a) a naive pydub script doing the same job over the same cached
  clips (intro music, pauses and clips joined with ``+``, outro music overlaid, a pydub gain
  to a loudness target, MP3 export) and (b) the floor, one bare ffmpeg run turning a WAV of the
  same voice track into the same MP3 (44.1 kHz stereo 128k CBR libmp3lame); plus a per-stage
  breakdown from a child process that calls the pipeline's stage functions itself (with timers
  on the functions inside ``assemble.mix`` and ``loudness.encode_normalized``, whose work runs in
  worker threads), and at the longest length the encode stage again with one worker thread; and
  whether the longest episode builds with one clip per segment (270 chapters at 90 minutes);
- the edge engine against the local fake service (400 ms latency), concurrency 1 and 4
  (``scripts/bench_edge.py``'s workload);
- startup: ``podcast --help`` and ``podcast validate`` wall time and the heavy modules each
  imports (``python -X importtime``).

The clips for the synthetic episodes are real espeak-ng speech: the sample issue's own clips
(from the first cold build's cache), trimmed, joined and cut into 20-second pieces; an episode
cycles through that pool. Nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import importlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "seeds" / "ai-weekly"
SAMPLE_NAME = "2024-02-3.yaml"
EDIT = ("它能给文具分类", "它能熟练地给文具分类")
"""The one-entry edit for the incremental rebuild (the same as scripts/bench_loop.py's)."""
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
MINUTES = (10, 30, 60, 90)
QUICK_MINUTES = (3, 10)
CLIP_S = 20
CLIPS_PER_MINUTE = 60 // CLIP_S
CLIPS_PER_SEGMENT = 2
"""Engine requests per segment (the text has a ``[pause 700ms]`` between them): one clip per segment
would make 270 chapters at 90 minutes, more than an ID3 table of contents can hold (255); that
case is checked separately."""
GAP_MS = 700
MP3_ARGS = ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"]
LIBESPEAK = "libespeak-ng.so (loaded)"
"""Stands for the espeak-ng shared library being mapped into the process."""
HEAVY = ("numpy", "edge_tts", "aiohttp", "mutagen", "imageio_ffmpeg", "espeakng_loader",
         "podcast.engines.espeak", "podcast.audio.ffmpeg", LIBESPEAK)
"""What ``--help`` and ``validate`` are checked for (reported)."""
AUDIO_TTS = ("numpy", "edge_tts", "aiohttp", "mutagen", "imageio_ffmpeg", "podcast.audio.ffmpeg", LIBESPEAK)
"""The audio/TTS libraries of the target "--help/validate import no audio/TTS libraries" (as
tests/test_startup.py has it: ``espeakng_loader`` only locates espeak's files, and the engine
modules can check voice names without loading their libraries, so those do not count; the espeak
library being loaded does)."""
_PROBE = """
import json, sys
from podcast.cli import app
sys.argv = ["podcast", *sys.argv[1:]]
try:
    app()
except SystemExit:
    pass
try:
    maps = open("/proc/self/maps").read()
except OSError:
    maps = ""
print(json.dumps({"modules": sorted(sys.modules), "libespeak": "libespeak" in maps}))
"""
"""Runs the CLI in this process, then reports the modules and whether libespeak-ng is mapped."""


# ---------------------------------------------------------------------------------------------
# measuring


@dataclass(frozen=True)
class Measured:
    """One subprocess run: wall time, peak RSS of its largest process, CPU time of its whole tree
    (user + system), its stdout."""

    seconds: float
    peak_mb: float
    stdout: str
    cpu_s: float = 0.0


def _rss_mb(maxrss: int) -> float:
    """``ru_maxrss`` in MB (kilobytes on Linux, bytes on macOS)."""
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


LAUNCHER = """
import os, sys, time
result, cmd = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(result, "w") as f:
    f.write(f"{elapsed!r} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime!r}")
sys.exit(code if code >= 0 else 128 - code)
"""
"""Runs a command and reports its wall time and ``ru_maxrss``. A child's ``ru_maxrss`` starts at the
resident size of the process that forked it (the kernel records the old memory map's peak at
``exec``), so the measured command is started from this small interpreter, not from the bench."""


def run_measured(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None,
                 data: bytes | None = None) -> Measured:
    """Run *cmd* (which must succeed), feeding it *data*; its wall time and peak RSS (``wait4``)."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result"
        proc = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(result), *cmd], input=data,
                              capture_output=True, env=env, cwd=cwd, check=False)
        stdout = proc.stdout.decode("utf-8", errors="replace")
        if proc.returncode != 0:
            stderr = proc.stderr.decode("utf-8", errors="replace")
            tail = "\n".join(stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
        seconds, maxrss, cpu = result.read_text().split()
    return Measured(float(seconds), _rss_mb(int(maxrss)), stdout, float(cpu))


def podcast_cmd(*args: str) -> list[str]:
    """``python -m podcast ARGS``, as a user would run it."""
    return [sys.executable, "-m", "podcast", *args]


def child_cmd(mode: str, *args: str) -> list[str]:
    """This script run as a child process in *mode*."""
    return [sys.executable, str(Path(__file__).resolve()), "_child", mode, *args]


def clean_env(cache: Path | None = None) -> dict[str, str]:
    """The environment for CLI runs: no edge endpoint override, the given cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("PODCAST_EDGE_ENDPOINT", "PODCAST_CACHE_DIR")}
    if cache is not None:
        env["PODCAST_CACHE_DIR"] = str(cache)
    return env


def self_peak_mb() -> float:
    """Peak RSS of this process (since the last :func:`reset_peak`), MB."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return _rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def reset_peak() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs``); whether that worked."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Series:
    """Repeated measurements of named cases."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    peak_mb: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    cpu_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, case: str, m: Measured) -> None:
        """Record one run of *case*."""
        self.seconds[case].append(m.seconds)
        self.peak_mb[case].append(m.peak_mb)
        self.cpu_s[case].append(m.cpu_s)

    def cpu(self, case: str) -> float | None:
        """Median CPU seconds of *case*."""
        values = self.cpu_s.get(case)
        return statistics.median(values) if values else None

    def median(self, case: str) -> float | None:
        """Median seconds of *case*, or None when it did not run."""
        values = self.seconds.get(case)
        return statistics.median(values) if values else None

    def peak(self, case: str) -> float | None:
        """Median peak RSS of *case*, MB."""
        values = self.peak_mb.get(case)
        return statistics.median(values) if values else None


def fmt_s(values: Sequence[float] | None) -> str:
    """``median (min–max)`` seconds."""
    if not values:
        return "—"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.2f}"
    return f"{med:.2f} ({min(values):.2f}–{max(values):.2f})"


def fmt_cpu(value: float | None) -> str:
    """CPU seconds, or a dash."""
    return "—" if value is None else f"{value:.1f}"


def fmt_mb(value: float | None) -> str:
    """Megabytes, or a dash."""
    return "—" if value is None else f"{value:,.0f}"


# ---------------------------------------------------------------------------------------------
# machine


def machine_info() -> dict[str, str]:
    """CPU, cores, RAM, OS, Python, ffmpeg, library versions, source revision."""
    import imageio_ffmpeg

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    first = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True,
                           check=False).stdout.splitlines()
    versions = []
    for name in ("numpy", "mutagen", "edge-tts", "imageio-ffmpeg", "espeakng-loader", "pydub"):
        with contextlib.suppress(Exception):
            from importlib import metadata

            versions.append(f"{name} {metadata.version(name)}")
    return {
        "CPU": cpu,
        "Cores": f"{os.cpu_count()} logical, {usable} usable by this process",
        "RAM": ram,
        "OS": platform.platform(),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "ffmpeg": (first[0] if first else "?") + f" (imageio-ffmpeg, {Path(exe).name})",
        "Libraries": ", ".join(versions),
        "Source": source_revision(),
    }


def source_revision() -> str:
    """The commit of the code measured, and whether ``podcast/`` differs from it (with a digest of
    the uncommitted changes, so that two readings can be compared)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    rev = git("rev-parse", "--short", "HEAD") or "?"
    changed = git("status", "--porcelain", "--", "podcast")
    if changed:
        digest = hashlib.sha256(git("diff", "HEAD", "--", "podcast").encode()).hexdigest()[:8]
        rev += (f" + uncommitted changes to {len(changed.splitlines())} file(s) under podcast/ "
                f"(diff {digest})")
    return rev


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine skews the figures)."""
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"


# ---------------------------------------------------------------------------------------------
# the sample issue through the CLI


def edited_segment(original: Path, edited: Path) -> str:
    """The id of the one segment whose clips differ between two versions of an issue."""
    from podcast.build import BuildOptions, choose_engine
    from podcast.input.project import load
    from podcast.report import Silent
    from podcast.synthesis.run import plan

    keys: list[dict[str, tuple[str, ...]]] = []
    for issue in (original, edited):
        project, _ = load(issue, "espeak")
        engine, voice, _ = choose_engine(project, BuildOptions(engine="espeak"), Silent())
        plans = plan(project.script, engine, voice, lexicon=project.lexicon)
        keys.append({p.segment.id: tuple(part.key for part in p.parts) for p in plans})
    changed = [s for s in keys[0] if keys[0][s] != keys[1].get(s)]
    if len(changed) != 1:
        raise RuntimeError(f"the edit should change exactly one segment, changed: {changed}")
    return changed[0]


SECTIONS = "sections"
"""The folder of encoded sections under a cache folder (``podcast.infra.cache.SectionCache.FOLDER``)."""


def clear_sections(cache: Path) -> None:
    """Empty the encoded-section cache under *cache* (the clips stay)."""
    shutil.rmtree(cache / SECTIONS, ignore_errors=True)


def section_files(cache: Path) -> set[str]:
    """The encoded sections stored under *cache*, by name."""
    return {p.name for p in (cache / SECTIONS).glob("*/*.mp3")}


def _report(m: Measured) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(m.stdout)
    return data


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(message)


@dataclass
class SampleResults:
    """The sample issue's cases."""

    series: Series = field(default_factory=Series)
    segment: str = ""
    duration_s: float = 0.0
    segments: int = 0
    segment_audio_s: float = 0.0
    pool_source: Path | None = None
    sections: list[int] = field(default_factory=list)
    """Encoded sections in the cache after the cold build, per repetition."""
    sections_edited: list[int] = field(default_factory=list)
    """Sections the incremental rebuild encoded (new files in the sections cache), per repetition."""


SAMPLE_CASES = [
    ("cold", "cold build (empty cache)"),
    ("force", "cached rebuild, `--force` (every clip and every encoded section cached)"),
    ("force_nosections", "rebuild with every clip cached but no encoded sections (`--force`, sections "
                         "cache emptied)"),
    ("noop", "\"up to date\" rebuild (nothing changed)"),
    ("incremental", "rebuild after editing one entry"),
    ("preview_cold", "`podcast preview` of the edited segment, empty cache"),
    ("preview_cached", "`podcast preview` of the edited segment, cached"),
    ("synth", "synthesis of the edited segment alone (synthesize.run: worker start + espeak + cache)"),
    ("synth_engine", "… of which the engine calls alone (`synthesize_sync`)"),
]


def bench_sample(results: SampleResults, tmp: Path, keep_cache: Path | None) -> None:
    """One repetition of the sample issue's cases in *tmp*."""
    show = tmp / "ai-weekly"
    shutil.copytree(SAMPLE_DIR, show)
    issue = show / SAMPLE_NAME
    out, cache = tmp / "out", tmp / "cache"
    env = clean_env(cache)
    build = ["build", str(issue), "--out", str(out), "--engine", "espeak", "--json"]
    s = results.series

    m = run_measured(podcast_cmd(*build), env)
    rep = _report(m)
    _expect(rep["segments"]["synthesized"] == rep["segments"]["total"] and not rep["skipped"],
            f"cold build did not synthesize everything: {rep['segments']}")
    results.duration_s, results.segments = rep["duration_s"], rep["segments"]["total"]
    s.add("cold", m)
    if keep_cache is not None and not keep_cache.exists():
        shutil.copytree(cache, keep_cache)  # the speech pool for the synthetic episodes

    results.sections.append(len(section_files(cache)))
    _expect(results.sections[-1] > 0, f"the cold build stored no encoded sections in {cache / SECTIONS}")

    m = run_measured(podcast_cmd(*build, "--force"), env)
    rep = _report(m)
    _expect(rep["segments"]["synthesized"] == 0 and not rep["skipped"], f"--force rebuild: {rep['segments']}")
    s.add("force", m)

    clear_sections(cache)  # the clips stay: what assembling the sample costs
    m = run_measured(podcast_cmd(*build, "--force"), env)
    rep = _report(m)
    _expect(rep["segments"]["synthesized"] == 0 and not rep["skipped"], f"--force rebuild: {rep['segments']}")
    _expect(len(section_files(cache)) == results.sections[-1],
            "the rebuild without sections did not store the cold build's sections again")
    s.add("force_nosections", m)

    m = run_measured(podcast_cmd(*build), env)
    _expect(_report(m)["skipped"], "the unchanged rebuild was not skipped as up to date")
    s.add("noop", m)

    original = tmp / "original" / show.name / issue.name  # same names: the number comes from the file name
    shutil.copytree(show, original.parent)
    text = issue.read_text(encoding="utf-8")
    _expect(EDIT[0] in text, f"the sample issue no longer contains {EDIT[0]!r}; update EDIT in {__file__}")
    issue.write_text(text.replace(EDIT[0], EDIT[1], 1), encoding="utf-8")
    if not results.segment:
        results.segment = edited_segment(original, issue)

    before = section_files(cache)  # the unedited build's sections, as a producer's cache holds them
    m = run_measured(podcast_cmd(*build), env)
    rep = _report(m)
    _expect(rep["segments"]["synthesized"] == 1 and not rep["skipped"],
            f"incremental rebuild should synthesize one segment: {rep['segments']}")
    s.add("incremental", m)
    results.sections_edited.append(len(section_files(cache) - before))

    preview = ["preview", str(issue), results.segment, "--out", str(tmp / "preview.wav"),
               "--engine", "espeak"]
    s.add("preview_cached", run_measured(podcast_cmd(*preview), env))
    s.add("preview_cold", run_measured(podcast_cmd(*preview), clean_env(tmp / "preview-cache")))

    m = run_measured(child_cmd("synth", "--issue", str(issue), "--segment", results.segment,
                               "--cache", str(tmp / "synth-cache")))
    data = json.loads(m.stdout)
    s.seconds["synth"].append(data["pipeline_s"])
    s.seconds["synth_engine"].append(data["engine_s"])
    s.peak_mb["synth"].append(m.peak_mb)
    results.segment_audio_s = data["audio_s"]


# ---------------------------------------------------------------------------------------------
# synthetic episodes


@dataclass(frozen=True)
class Episode:
    """A synthetic episode of *minutes* prepared for the assembly cases."""

    minutes: int
    clips: int
    segments: int
    issue: Path
    keys_file: Path
    floor_wav: Path


SHOW_YAML = """\
# Synthetic show for scripts/bench.py: the sample show's settings, offline engine.
title: 基准测试周报
language: zh-CN
engine: espeak
voices:
  espeak: {name: cmn, rate: "+0%"}
music: {intro: default, outro: default}
pauses: {between_ms: 700}
output: {sample_rate: 44100, channels: 2, bitrate: 128k}
loudness: {integrated_lufs: -16, true_peak_db: -1.0}
"""


def issue_yaml(minutes: int, pieces: list[int]) -> str:
    """An issue of ``len(pieces)`` segments (intro, entries, outro), segment *i* made of
    ``pieces[i]`` one-sentence pieces separated by a pause (so each piece is one engine request)."""
    def text(count: int, first: str, rest: str) -> str:
        return f" [pause {GAP_MS}ms] ".join([first] + [rest.format(k) for k in range(2, count + 1)])

    lines = [f"title: 基准测试 {minutes} 分钟", "date: 2024-01-01", "language: zh-CN", f"number: {minutes}",
             "intro: " + text(pieces[0], "大家好，这是一期用来测量速度的节目。", "这是开场的第{}部分。"),
             "outro: " + text(pieces[-1], "本期节目就到这里，感谢收听。", "这是结尾的第{}部分。"), "entries:"]
    for i in range(1, len(pieces) - 1):
        lines += [f"  - title: 第{i}条",
                  "    summary: " + text(pieces[i], f"这是第{i}条测试新闻的摘要。",
                                        f"这是第{i}条新闻的第{{}}部分。"),
                  f"    url: https://example.com/{i}"]
    return "\n".join(lines) + "\n"


def speech_pool(cache_dir: Path, sample_issue: Path) -> list[Any]:
    """20-second clips of real espeak speech: the sample's clips in episode order, trimmed,
    joined and cut."""
    import numpy as np

    from podcast.audio.timeline import trim
    from podcast.build import BuildOptions, choose_engine
    from podcast.engines.base import Clip
    from podcast.infra.cache import ClipCache
    from podcast.input.project import load
    from podcast.report import Silent
    from podcast.synthesis.run import plan

    project, _ = load(sample_issue, "espeak")
    engine, voice, _ = choose_engine(project, BuildOptions(engine="espeak"), Silent())
    cache = ClipCache(cache_dir)
    pieces = []
    rate = 0
    for p in plan(project.script, engine, voice, lexicon=project.lexicon):
        for part in p.parts:
            clip = cache.get(part.key)
            if clip is None:
                raise RuntimeError(f"clip {part.key} missing from {cache_dir}")
            rate = clip.sample_rate
            pieces.append(np.asarray(trim(clip).samples, dtype=np.int16).reshape(-1))
    speech = np.concatenate(pieces)
    size = CLIP_S * rate
    return [Clip(np.ascontiguousarray(speech[i:i + size]), rate, (0,))
            for i in range(0, speech.shape[0] - size + 1, size)]


def prepare_episode(show: Path, cache_dir: Path, pool: list[Any], minutes: int, per_segment: int,
                    name: str) -> Episode:
    """One synthetic issue with every clip in the cache (ClipCache.put under espeak's keys), its
    floor WAV and its clip keys in episode order."""
    import numpy as np

    from podcast.audio.ffmpeg import write_wav
    from podcast.build import BuildOptions, choose_engine
    from podcast.engines.base import Clip
    from podcast.infra.cache import ClipCache
    from podcast.input.project import load
    from podcast.report import Silent
    from podcast.synthesis.run import plan

    cache = ClipCache(cache_dir)
    clips = minutes * CLIPS_PER_MINUTE
    segments = max(2, -(-clips // per_segment))
    pieces = [per_segment] * (segments - 1)
    pieces.append(clips - sum(pieces))  # the outro takes what is left
    _expect(min(pieces) >= 1, f"cannot make {clips} clips into segments of {per_segment}")
    issue = show / f"{name}.yaml"
    issue.write_text(issue_yaml(minutes, pieces), encoding="utf-8")
    project, _ = load(issue, "espeak")
    engine, voice, _ = choose_engine(project, BuildOptions(engine="espeak"), Silent())
    plans = plan(project.script, engine, voice, lexicon=project.lexicon)
    _expect(len(plans) == segments, f"{issue}: {len(plans)} segments, expected {segments}")
    keys: list[str] = []
    rate = pool[0].sample_rate
    gap = np.zeros(round(GAP_MS * rate / 1000), dtype=np.int16)
    track = []
    for p, count in zip(plans, pieces, strict=True):
        _expect(len(p.parts) == count, f"segment {p.segment.id}: {len(p.parts)} engine requests, not {count}")
        for part in p.parts:
            source = pool[len(keys) % len(pool)]
            n = len(part.request.sentences)
            marks = tuple(round(j * source.frames / n) for j in range(n))
            if not cache.has(part.key):
                cache.put(part.key, Clip(source.samples, source.sample_rate, marks))
            track += [gap, source.samples] if keys else [source.samples]
            keys.append(part.key)
    wav = show.parent / f"{name}-floor.wav"
    write_wav(wav, np.concatenate(track), rate)
    keys_file = show.parent / f"{name}-keys.json"
    keys_file.write_text(json.dumps({"cache": str(cache_dir), "keys": keys}), encoding="utf-8")
    return Episode(minutes, clips, segments, issue, keys_file, wav)


def prepare_episodes(work: Path, pool: list[Any], minutes: Sequence[int]) -> tuple[Path, list[Episode]]:
    """The synthetic show, its issues and one cache holding every clip."""
    show = work / "synthetic"
    show.mkdir(parents=True)
    (show / "show.yaml").write_text(SHOW_YAML, encoding="utf-8")
    cache_dir = work / "cache"
    return cache_dir, [prepare_episode(show, cache_dir, pool, m, CLIPS_PER_SEGMENT, f"m{m:03d}")
                       for m in minutes]


def check_one_clip_segments(work: Path, cache: Path, pool: list[Any], minutes: int) -> tuple[bool, str]:
    """Whether an episode of *minutes* with one 20-second clip per segment builds at all."""
    ep = prepare_episode(work / "synthetic", cache, pool, minutes, 1, f"flat{minutes:03d}")
    ep.floor_wav.unlink()
    clear_sections(cache)
    try:
        m = run_measured(podcast_cmd("build", str(ep.issue), "--out", str(work / "out"), "--engine", "espeak",
                                     "--force", "--json"), clean_env(cache))
    except RuntimeError as exc:
        last = str(exc).strip().splitlines()[-1]
        hint = (" (mutagen writing the ID3 table of contents, CTOC, whose entry count is one byte: at "
                "most 255 chapters, while `limits.segments` allows 300)"
                if "bytes must be in range(0, 256)" in last else "")
        return False, f"{ep.segments} segments: the build fails: `{last}`{hint}"
    return True, f"{ep.segments} segments: built in {m.seconds:.1f} s"


@dataclass
class AssemblyResults:
    """The assembly cases, by minutes."""

    series: Series = field(default_factory=Series)
    episodes: list[Episode] = field(default_factory=list)
    durations: dict[int, float] = field(default_factory=dict)
    loudness: dict[int, str] = field(default_factory=dict)
    naive_parts: dict[int, list[tuple[float, float, float]]] = field(
        default_factory=lambda: defaultdict(list))
    """(join, overlay + gain, export) seconds of each naive run."""
    stages: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    sections: dict[int, int] = field(default_factory=dict)
    """Encoded sections the pipeline stored, by minutes."""
    naive_cap: int | None = None
    one_clip_segments: tuple[int, bool, str] | None = None


def bench_assembly_rep(res: AssemblyResults, cache: Path, work: Path, ffmpeg: str, *, stages: bool,
                       whatif: bool) -> None:
    """One repetition of pipeline, floor, naive and the stage breakdown at every length (with
    *whatif*, the one-worker encode at the longest). The pipeline and the stage breakdown start
    with every clip cached and no encoded section (the sections cache is emptied before each)."""
    longest = max(ep.minutes for ep in res.episodes)
    for ep in res.episodes:
        m = ep.minutes
        out = work / "out"
        clear_sections(cache)
        rep = run_measured(podcast_cmd("build", str(ep.issue), "--out", str(out), "--engine", "espeak",
                                       "--force", "--json"), clean_env(cache))
        data = _report(rep)
        _expect(data["segments"]["synthesized"] == 0, f"{m} min: clips were synthesized: {data['segments']}")
        res.durations[m] = data["duration_s"]
        loud = data["loudness"]
        res.loudness[m] = f"{loud['integrated_lufs']:.1f} LUFS / {loud['true_peak_dbtp']:.1f} dBTP"
        res.series.add(f"pipeline/{m}", rep)
        res.sections[m] = len(section_files(cache))  # all encoded by this run: the folder was empty

        floor_mp3 = work / "floor.mp3"
        res.series.add(f"floor/{m}", run_measured(
            [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(ep.floor_wav),
             *MP3_ARGS, str(floor_mp3)]))
        floor_mp3.unlink()

        if res.naive_cap is None or m <= res.naive_cap:
            naive_mp3 = work / "naive.mp3"
            rep = run_measured(child_cmd("naive", "--keys", str(ep.keys_file), "--out", str(naive_mp3)))
            data = json.loads(rep.stdout)
            res.series.add(f"naive/{m}", rep)
            res.naive_parts[m].append((data["join_s"], data["mix_s"], data["export_s"]))
            naive_mp3.unlink()

        if stages:
            clear_sections(cache)
            rep = run_measured(child_cmd("stages", "--issue", str(ep.issue), "--cache", str(cache),
                                         "--out", str(work / "stages"),
                                         *(["--whatif"] if whatif and m == longest else [])))
            res.stages[m].append(json.loads(rep.stdout))


def naive_estimate(res: AssemblyResults, minutes: int) -> tuple[float | None, str]:
    """The naive loop's time at *minutes*: measured, else extrapolated from the measured lengths."""
    measured = res.series.median(f"naive/{minutes}")
    if measured is not None:
        return measured, ""
    import numpy as np

    points = [(ep.minutes, res.series.median(f"naive/{ep.minutes}")) for ep in res.episodes]
    known = [(float(x), y) for x, y in points if y is not None]
    if not known:
        return None, ""
    if len(known) == 1:
        (x0, y0), = known
        return y0 * minutes / x0, f"extrapolated linearly from {x0:g} min (a lower bound)"
    xs = np.asarray([x for x, _ in known])
    ys = np.asarray([y for _, y in known])
    coef, *_ = np.linalg.lstsq(np.stack([xs, xs * xs], axis=1), ys, rcond=None)
    b, c = (max(0.0, float(v)) for v in coef)
    label = (f"extrapolated: least-squares fit t = {b:.3g}·m + {c:.3g}·m² over "
             f"{', '.join(f'{x:g}' for x in xs)} min")
    return b * minutes + c * minutes * minutes, label


# ---------------------------------------------------------------------------------------------
# edge engine against the fake service


def bench_edge(repeat: int, segments: int, latency: float) -> dict[str, list[float]]:
    """Concurrency 1 and 4 against the local fake edge service (scripts/bench_edge.py's workload)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    bench_edge_mod = importlib.import_module("bench_edge")
    from podcast.engines.edge import EdgeEngine

    script = bench_edge_mod.script(segments)
    server = subprocess.Popen([sys.executable, "-m", "podcast.testing.fake_edge", "--latency", str(latency)],
                              stdout=subprocess.PIPE, text=True)
    saved = os.environ.get("PODCAST_EDGE_ENDPOINT")
    times: dict[str, list[float]] = defaultdict(list)
    try:
        assert server.stdout is not None
        os.environ["PODCAST_EDGE_ENDPOINT"] = server.stdout.readline().strip()
        engine = EdgeEngine()
        asyncio.run(bench_edge_mod.timed(engine, script, 4))  # warm-up: the fake speaks each text once
        for _ in range(repeat):
            times["c1"].append(asyncio.run(bench_edge_mod.timed(engine, script, 1)))
            times["c4"].append(asyncio.run(bench_edge_mod.timed(engine, script, 4)))
    finally:
        server.terminate()
        server.wait()
        if saved is None:
            os.environ.pop("PODCAST_EDGE_ENDPOINT", None)
        else:
            os.environ["PODCAST_EDGE_ENDPOINT"] = saved
    return times


# ---------------------------------------------------------------------------------------------
# startup


def imported_modules(args: Sequence[str]) -> tuple[set[str], float]:
    """Modules ``podcast ARGS`` has loaded when it is done (with :data:`LIBESPEAK` when the espeak
    library is mapped), and its total import time in seconds (``python -X importtime``)."""
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=ROOT, env=clean_env(),
                          capture_output=True, text=True, check=True)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    modules = set(report["modules"]) | ({LIBESPEAK} if report["libespeak"] else set())
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "podcast", *args], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, check=True)
    total_us = 0
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+)\s+\|", line)
        if match:
            total_us += int(match.group(1))
    return modules, total_us / 1e6


def heavy_in(modules: set[str], names: Sequence[str]) -> list[str]:
    """Which of *names* (or their submodules) are in *modules*."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


# ---------------------------------------------------------------------------------------------
# child processes


def child_synth(issue: Path, segment: str, cache_dir: Path) -> dict[str, float]:
    """Synthesize one segment as the build would (plan + synthesize.run into an empty cache)."""
    from podcast.build import BuildOptions, choose_engine, policy_for
    from podcast.infra.cache import ClipCache
    from podcast.input.project import load
    from podcast.report import Silent
    from podcast.synthesis.run import plan, run

    options = BuildOptions(engine="espeak", cache_dir=cache_dir)
    project, _ = load(issue, "espeak")
    engine, voice, _ = choose_engine(project, options, Silent())
    plans = plan(project.script, engine, voice, only={segment}, lexicon=project.lexicon)
    started = time.perf_counter()
    synthesis = run(plans, engine, ClipCache(cache_dir), policy=policy_for(project.show, engine, options))
    pipeline_s = time.perf_counter() - started
    audio_s = sum(synthesis.clips[part.key].duration_s for p in plans for part in p.parts)
    speak = getattr(engine, "synthesize_sync", None)
    started = time.perf_counter()
    for p in plans:
        for part in p.parts:
            if callable(speak):
                speak(part.request)
            else:
                asyncio.run(engine.synthesize(part.request))
    engine_s = time.perf_counter() - started
    return {"pipeline_s": pipeline_s, "engine_s": engine_s, "audio_s": audio_s}


def child_naive(keys_file: Path, out: Path) -> dict[str, float]:
    """The job of the pipeline done the way a pydub script would do it: the intro music, then
    ``episode = episode + silence + clip`` over the cached clips, the outro music overlaid at the
    end, a gain to the loudness target computed from pydub's ``dBFS``, ``export`` to MP3."""
    import imageio_ffmpeg
    import numpy as np

    from podcast.audio.ffmpeg import decode
    from podcast.infra.cache import ClipCache
    from podcast.input.show import DEFAULT_MUSIC, LoudnessTarget, Music, Output

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Couldn't find ffmpeg" (set below), audioop deprecation
        pydub = importlib.import_module("pydub")
    segment_cls = pydub.AudioSegment
    segment_cls.converter = imageio_ffmpeg.get_ffmpeg_exe()
    spec = json.loads(keys_file.read_text(encoding="utf-8"))
    cache = ClipCache(Path(spec["cache"]))
    music, output, target = Music(), Output(), LoudnessTarget()
    rate, channels = output.sample_rate, output.channels

    def music_segment(path: Path) -> Any:
        # pydub's from_file needs ffprobe, which imageio-ffmpeg does not ship: decode with the
        # pipeline's own decoder and hand pydub 16-bit PCM
        pcm = np.clip(np.round(decode(path, rate, channels) * 32767), -32768, 32767).astype("<i2")
        return segment_cls(data=pcm.tobytes(), sample_width=2, frame_rate=rate, channels=channels)

    started = time.perf_counter()
    episode: Any = music_segment(DEFAULT_MUSIC["intro"]).apply_gain(music.volume_db)
    outro: Any = music_segment(DEFAULT_MUSIC["outro"]).apply_gain(music.volume_db)
    for key in spec["keys"]:
        clip = cache.get(key)
        if clip is None:
            raise RuntimeError(f"clip {key} missing")
        seg = segment_cls(data=clip.samples.tobytes(), sample_width=2, frame_rate=clip.sample_rate,
                          channels=1)
        episode = episode + segment_cls.silent(duration=GAP_MS, frame_rate=rate) + seg
    episode = episode + segment_cls.silent(duration=round(music.tail_s * 1000), frame_rate=rate)
    joined = time.perf_counter()
    episode = episode.overlay(outro, position=max(0, len(episode) - len(outro)))
    episode = episode.apply_gain(target.integrated_lufs - episode.dBFS)
    mixed = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        episode.export(str(out), format="mp3", bitrate=output.bitrate,
                       parameters=["-ar", str(rate), "-ac", str(channels)])
    done = time.perf_counter()
    return {"join_s": joined - started, "mix_s": mixed - joined, "export_s": done - mixed,
            "duration_s": len(episode) / 1000, "peak_mb": self_peak_mb()}


def cpu_now() -> tuple[float, float]:
    """CPU seconds (user + system) used so far by this process and by its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


class StageClock:
    """Wall and CPU times of the pipeline's stages, and of calls inside them.

    The stages run one after the other in the main thread. The calls inside
    ``loudness.encode_normalized`` run in its worker threads at the same time, so each call is
    timed in the thread that makes it and the times are summed over threads (busy time: the
    sum can exceed the stage's wall time). The CPU time of a call is the calling thread's own
    (``time.thread_time``) plus that of the ffmpeg processes the thread reaped during the call
    (``os.waitpid`` is replaced by ``os.wait4``, which returns their usage); helper threads that
    only shovel bytes between pipes are not counted per call, but are in the stage's CPU time.
    """

    def __init__(self) -> None:
        self.stages: list[dict[str, Any]] = []
        self.parts: dict[str, dict[str, Any]] = {}
        self.encodes: dict[int, int] = defaultdict(int)
        """``encode_measured`` calls per section (by first MP3 frame)."""
        self.passes: list[dict[str, Any]] = []
        """Each ``encode_measured`` call: its section, whether it holds music, the result's loudness."""
        self.span: list[float] = []
        """Start of the first and end of the last ``encode_section`` call."""
        self.lock = threading.Lock()
        self.local = threading.local()
        self.peak_reset = reset_peak()
        self._reap_clock()

    def _reap_clock(self) -> None:
        """Count the CPU time of every child process per thread, as the thread reaps it."""
        original, local = os.waitpid, self.local

        def waitpid(pid: int, options: int) -> tuple[int, int]:
            if pid <= 0:
                return original(pid, options)
            got, status, usage = os.wait4(pid, options)
            if got:
                local.ff = getattr(local, "ff", 0.0) + usage.ru_utime + usage.ru_stime
            return got, status

        setattr(os, "waitpid", waitpid)  # noqa: B010 - mypy would not let a module function be assigned

    def thread_cpu(self) -> tuple[float, float]:
        """CPU seconds of this thread and of the ffmpeg processes it has reaped."""
        return time.thread_time(), float(getattr(self.local, "ff", 0.0))

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a top-level stage and record the peak RSS during it."""
        self.peak_reset = reset_peak()
        started, (py, ff) = time.perf_counter(), cpu_now()
        try:
            yield
        finally:
            py2, ff2 = cpu_now()
            self.stages.append({"name": name, "s": time.perf_counter() - started, "peak": self_peak_mb(),
                                "py_cpu": py2 - py, "ff_cpu": ff2 - ff})

    def add(self, key: str, seconds: float, py_cpu: float, ff_cpu: float) -> None:
        """Add one call's times to *key* (from any thread)."""
        with self.lock:
            part = self.parts.setdefault(key, {"s": 0.0, "calls": 0, "py_cpu": 0.0, "ff_cpu": 0.0})
            part["s"] += seconds
            part["calls"] += 1
            part["py_cpu"] += py_cpu
            part["ff_cpu"] += ff_cpu

    @contextlib.contextmanager
    def timed(self, key: str, context: str | None = None) -> Iterator[None]:
        """Time the block as one call of *key*; with *context*, calls made inside it in this
        thread are labelled with it (see :meth:`context`)."""
        saved = getattr(self.local, "context", "")
        if context is not None:
            self.local.context = context
        started, (py, ff) = time.perf_counter(), self.thread_cpu()
        try:
            yield
        finally:
            py2, ff2 = self.thread_cpu()
            self.local.context = saved
            self.add(key, time.perf_counter() - started, py2 - py, ff2 - ff)

    def context(self) -> str:
        """The label of the outer timed call this thread is in."""
        return str(getattr(self.local, "context", "")) or "other"

    def wrap(self, owner: Any, attr: str, key: Callable[[], str], context: str | None = None) -> None:
        """Replace ``owner.attr`` (in this process only) by a timed call of the original."""
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.timed(key(), context):
                return original(*args, **kwargs)

        setattr(owner, attr, timed)

    def wrap_render(self, mix_cls: Any) -> None:
        """Time ``Mix.render``: the time spent producing its blocks (resampling the section's
        clips and mixing each block), one call per rendered section."""
        original = mix_cls.render

        def render(mix: Any, section: Any, windows: Any = None) -> Iterator[Any]:
            key = f"render:{self.context()}"  # runs at the first block, inside the consumer's call
            blocks = original(mix, section, windows)
            spent = py_spent = ff_spent = 0.0
            try:
                while True:
                    started, (py, ff) = time.perf_counter(), self.thread_cpu()
                    try:
                        block = next(blocks)
                    except StopIteration:
                        return
                    finally:
                        py2, ff2 = self.thread_cpu()
                        spent += time.perf_counter() - started
                        py_spent, ff_spent = py_spent + py2 - py, ff_spent + ff2 - ff
                    yield block
            finally:
                self.add(key, spent, py_spent, ff_spent)

        mix_cls.render = render

    def wrap_sections(self, loudness: Any, audio: Any) -> None:
        """Time ``loudness.encode_section`` (one call per section encoded, in a worker thread)
        and count the ``audio.encode_measured`` calls each makes (more than one: the section
        missed the target and was encoded again)."""
        original = loudness.encode_section

        def encode_section(episode: Any, section: Any, settings: Any) -> Any:
            started = time.perf_counter()
            self.local.section = section.first_frame
            self.local.music = bool(section.beds)
            try:
                with self.timed("section"):
                    return original(episode, section, settings)
            finally:
                with self.lock:
                    self.span = [min([started, *self.span[:1]]), max([time.perf_counter(), *self.span[1:]])]

        loudness.encode_section = encode_section
        encode = audio.encode_measured

        def encode_measured(*args: Any, **kwargs: Any) -> Any:
            section = int(getattr(self.local, "section", -1))
            with self.lock:
                self.encodes[section] += 1
            with self.timed("encode", "encode"):
                mp3, loud = encode(*args, **kwargs)
            with self.lock:
                self.passes.append({"section": section, "music": bool(getattr(self.local, "music", False)),
                                    "lufs": loud.integrated_lufs, "dbtp": loud.true_peak_db,
                                    "gain_db": kwargs.get("gain_db")})
            return mp3, loud

        audio.encode_measured = encode_measured


def child_stages(issue: Path, cache_dir: Path, out: Path, whatif: bool) -> dict[str, Any]:
    """The build's stages, called one by one as ``podcast.build._build`` calls them, timed."""
    from podcast.audio import encode as loudness
    from podcast.audio import ffmpeg as audio
    from podcast.audio import timeline as assemble
    from podcast.build import BuildOptions, choose_engine, input_fingerprint, policy_for
    from podcast.infra.cache import ClipCache, SectionCache
    from podcast.input.project import load
    from podcast.publish.outputs import gather, kinds, tag_audio
    from podcast.report import Silent
    from podcast.synthesis.run import plan, run

    clock = StageClock()
    clock.wrap(assemble, "trim", lambda: "trim")
    clock.wrap(assemble, "_digest", lambda: "digest")
    clock.wrap(assemble, "decode", lambda: "decode")
    clock.wrap(assemble, "resample_mono", lambda: "resample")
    clock.wrap_render(assemble.Mix)
    clock.wrap(audio, "integrated_loudness", lambda: "measure", context="measure")
    clock.wrap_sections(loudness, audio)
    clock.wrap(SectionCache, "put", lambda: "put")

    options = BuildOptions(engine="espeak", cache_dir=cache_dir, out_dir=out, skip_up_to_date=False)
    out.mkdir(parents=True, exist_ok=True)
    with clock.stage("load"):
        project, _ = load(issue, "espeak")
        engine, voice, _ = choose_engine(project, options, Silent())
        plans = plan(project.script, engine, voice, lexicon=project.lexicon)
        input_fingerprint(project, engine, plans)
    clip_cache = ClipCache(cache_dir)
    with clock.stage("clips"):
        synthesis = run(plans, engine, clip_cache, policy=policy_for(project.show, engine, options))
    _expect(synthesis.synthesized == 0, "the stage breakdown synthesized clips")
    with clock.stage("mix"):
        episode = assemble.mix(plans, synthesis, project.show)
    mp3 = out / f"{issue.stem}.mp3"
    sections = SectionCache(clip_cache.root)
    _expect(not any(sections.keys()), f"the sections cache {cache_dir / SECTIONS} is not empty")
    with clock.stage("encode"):
        result = loudness.encode_normalized(episode, project.show, mp3, sections)
    record = gather(project, episode)
    with clock.stage("id3"):
        tag_audio(mp3, record)
    with clock.stage("texts"):
        for kind in kinds():
            if kind.render is not None:
                kind.render(record)
        hashlib.sha256(mp3.read_bytes()).hexdigest()
    rate = episode.sample_rate
    data: dict[str, Any] = {
        "stages": clock.stages,
        "parts": clock.parts,
        "peak_mb": max(st["peak"] for st in clock.stages) if clock.peak_reset else self_peak_mb(),
        "per_stage_peaks": clock.peak_reset,
        "duration_s": episode.duration_s,
        "sections": len(episode.sections),
        "longest_section_s": max(sec.frames for sec in episode.sections) / rate,
        "clips": sum(len(sec.clips) for sec in episode.sections),
        "workers": loudness.workers(),
        "pool": min(loudness.workers(), len(episode.sections)),
        "span_s": clock.span[1] - clock.span[0] if clock.span else 0.0,
        "encode_calls": sum(clock.encodes.values()),
        "reencoded": sum(1 for n in clock.encodes.values() if n > 1),
        "passes": clock.passes,
        "target": [project.show.loudness.integrated_lufs, loudness.TOLERANCE_LU,
                   project.show.loudness.true_peak_db],
        "loudness": [result.integrated_lufs, result.true_peak_db],
        "mp3_mb": mp3.stat().st_size / 2**20,
    }
    if whatif:
        data["whatif"] = one_worker(clock, episode, project.show, out)
    return data


def one_worker(clock: StageClock, episode: Any, show: Any, out: Path) -> dict[str, Any]:
    """``encode_normalized`` of the same mix again, into an empty section cache, with
    ``loudness.workers`` patched to return 1 (what the second CPU buys)."""
    from podcast.audio import encode as loudness
    from podcast.infra.cache import SectionCache

    saved_parts, saved_encodes, saved_passes = clock.parts, clock.encodes, clock.passes
    clock.parts, clock.encodes, clock.passes, clock.span = {}, defaultdict(int), [], []
    with tempfile.TemporaryDirectory(dir=out) as folder:
        loudness.workers = lambda: 1
        started, (py, ff) = time.perf_counter(), cpu_now()
        loudness.encode_normalized(episode, show, Path(folder) / "one-worker.mp3", SectionCache(Path(folder)))
        seconds = time.perf_counter() - started
        py2, ff2 = cpu_now()
    found = {"s": seconds, "py_cpu": py2 - py, "ff_cpu": ff2 - ff,
             "encode_calls": sum(clock.encodes.values()), "parts": clock.parts}
    clock.parts, clock.encodes, clock.passes = saved_parts, saved_encodes, saved_passes
    return found


def child_main(argv: list[str]) -> None:
    """Entry point of the child processes (``bench.py _child MODE ...``); prints JSON."""
    parser = argparse.ArgumentParser(prog="bench.py _child")
    parser.add_argument("mode", choices=["synth", "naive", "stages"])
    parser.add_argument("--issue", type=Path)
    parser.add_argument("--segment")
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--keys", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--whatif", action="store_true")
    args = parser.parse_args(argv)
    result: dict[str, Any]
    if args.mode == "synth":
        result = dict(child_synth(args.issue, args.segment, args.cache))
    elif args.mode == "naive":
        result = dict(child_naive(args.keys, args.out))
    else:
        result = child_stages(args.issue, args.cache, args.out, args.whatif)
    print(json.dumps(result, ensure_ascii=False))


# ---------------------------------------------------------------------------------------------
# the report


@dataclass
class Target:
    """One PASS/FAIL line."""

    text: str
    passed: bool | None
    detail: str


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def targets(sample: SampleResults, asm: AssemblyResults, startup: dict[str, set[str]],
            edge: dict[str, list[float]]) -> list[Target]:
    """The issue's targets, evaluated."""
    out: list[Target] = []
    lengths = [ep.minutes for ep in asm.episodes]
    longest, shortest = (max(lengths), min(lengths)) if lengths else (0, 0)
    s = asm.series
    pipe, floor = s.median(f"pipeline/{longest}"), s.median(f"floor/{longest}")
    naive, naive_label = naive_estimate(asm, longest)
    if longest:
        r = _ratio(pipe, floor)
        out.append(Target(f"{longest}-minute assembly at most 2x the ffmpeg floor",
                          r is not None and r <= 2.0, f"{pipe:.1f} s / {floor:.1f} s = {r:.2f}x"
                          if r is not None and pipe is not None and floor is not None else "not measured"))
        r = _ratio(naive, pipe)
        detail = (f"naive {naive:.1f} s / pipeline {pipe:.1f} s = {r:.2f}"
                  if r is not None and naive is not None and pipe is not None else "not measured")
        if naive_label:
            detail += f" (naive time {naive_label})"
        out.append(Target(f"{longest}-minute assembly at least 10x faster than the naive pydub loop",
                          None if r is None else r >= 10.0, detail))
        peak = s.peak(f"pipeline/{longest}")
        out.append(Target(f"{longest}-minute assembly peak memory at most 600 MB",
                          None if peak is None else peak <= 600,
                          f"{fmt_mb(peak)} MB (largest process of `podcast build`)"))
        if longest != shortest:
            short = s.median(f"pipeline/{shortest}")
            r = _ratio(pipe, short)
            allowed = 10.5 * (longest / shortest) / 9
            name = (f"{longest}-minute time at most {allowed:.2f}x the {shortest}-minute time "
                    f"(linear{'' if (longest, shortest) == (90, 10) else '; the 90/10 target scaled'})")
            out.append(Target(name, None if r is None else r <= allowed,
                              f"{pipe:.1f} s / {short:.1f} s = {r:.2f}x"
                              if r is not None and pipe is not None and short is not None else ""))
    if asm.one_clip_segments is not None:
        minutes, ok, detail = asm.one_clip_segments
        out.append(Target(f"a {minutes}-minute episode of one {CLIP_S}-second clip per segment builds "
                          "(not a speed target: checked because it did not)", ok, detail))
    force = sample.series.median("force")
    out.append(Target("cached rebuild of the sample issue (`--force`, every clip and encoded section "
                      "cached) under 2 s", None if force is None else force < 2.0,
                      f"{force:.2f} s" if force is not None else ""))
    inc, synth = sample.series.median("incremental"), sample.series.median("synth")
    if inc is not None and force is not None and synth is not None:
        allowed = 1.5 * force + synth
        edited = (f"; it re-encoded {statistics.median(sample.sections_edited):g} of "
                  f"{statistics.median(sample.sections):g} sections" if sample.sections_edited else "")
        out.append(Target("incremental rebuild (one entry edited, from the unedited build's cache) at most "
                          "1.5x a cached one plus the one segment's synthesis", inc <= allowed,
                          f"{inc:.2f} s vs 1.5 × {force:.2f} + {synth:.2f} = {allowed:.2f} s{edited}"))
    for cmd, modules in startup.items():
        found = heavy_in(modules, AUDIO_TTS)
        also = [m for m in heavy_in(modules, HEAVY) if m not in found]
        out.append(Target(f"`podcast {cmd}` imports no audio/TTS library", not found,
                          ("imports " + ", ".join(found) if found else "none imported")
                          + (f" (imports {', '.join(also)}, which load no library)" if also else "")))
    if edge.get("c1") and edge.get("c4"):
        r = statistics.median(edge["c4"]) / statistics.median(edge["c1"])
        out.append(Target("edge: concurrency 4 takes at most 0.3x the time of concurrency 1 "
                          "(scripts/bench_edge.py's target)", r <= 0.3, f"{r:.3f}"))
    return out


def _mark(passed: bool | None) -> str:
    return "n/a" if passed is None else ("PASS" if passed else "FAIL")


def render(args: argparse.Namespace, info: dict[str, str], started: dt.datetime, elapsed: float,
           loads: tuple[str, str], sample: SampleResults, asm: AssemblyResults,
           startup_times: Series, startup: dict[str, set[str]], import_s: dict[str, float],
           edge: dict[str, list[float]], edge_segments: int) -> str:
    """docs/benchmarks.md."""
    cmd = "python scripts/bench.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    lines = ["# Benchmarks", ""]
    if args.quick:
        lines += ["> **Quick smoke run** (`--quick`): one repetition, short episodes. Not a measurement to "
                  "compare; run `python scripts/bench.py` for that.", ""]
    lines += [
        "Generated by `scripts/bench.py`; do not edit by hand. To reproduce (no network needed, nothing is "
        "downloaded at run time):",
        "",
        "```sh",
        "pip install -e \".[dev,bench]\"",
        "python scripts/bench.py            # full run, writes this file; --repeat N, --quick, --help",
        "```",
        "",
        f"This run: `{cmd}` — {args.repeat} repetition(s) per case, medians reported as "
        "`median (min–max)` seconds.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        f"| Date | {started:%Y-%m-%d %H:%M} UTC (run took {elapsed / 60:.1f} min) |",
        *[f"| {k} | {v} |" for k, v in info.items()],
        f"| Load average (1/5/15 min) | at start {loads[0]}; at end {loads[1]} |",
        "",
        "Other processes on the machine (load average above 0) slow the figures down; compare runs on an "
        "idle machine.",
        "",
        "## Targets",
        "",
    ]
    for t in targets(sample, asm, startup, edge):
        lines.append(f"- **{_mark(t.passed)}** {t.text}: {t.detail}")
    lines.append("")
    lines += target_notes(sample, asm)
    lines += render_sample(sample)
    lines += render_assembly(asm)
    lines += render_stages(asm)
    if edge:
        lines += ["## Edge engine against the local fake service", "",
                  f"`scripts/bench_edge.py`'s workload: {edge_segments} English segments, "
                  f"{args.latency * 1000:.0f} ms service latency per request, each run into an empty cache, "
                  "the fake service warmed up first (it runs in its own process).", "",
                  "| concurrency | seconds |", "|---|---|",
                  f"| 1 | {fmt_s(edge.get('c1'))} |", f"| 4 | {fmt_s(edge.get('c4'))} |", ""]
    if startup:
        lines += ["## Startup", "",
                  "Wall time of the command in a subprocess (`python -m podcast ...`); the heavy modules it "
                  "has loaded when done (the CLI run in a probe process that then lists `sys.modules` and "
                  "checks `/proc/self/maps` for libespeak-ng; checked: "
                  + ", ".join(f"`{h}`" for h in HEAVY) + "); its total import time (`python -X importtime`, "
                  "sum of the self times).",
                  "", "| command | seconds | import time (s) | heavy modules imported |", "|---|---|---|---|"]
    for cmd_name, modules in startup.items():
        found = heavy_in(modules, HEAVY)
        lines.append(f"| `podcast {cmd_name}` | {fmt_s(startup_times.seconds.get(cmd_name))} | "
                     f"{import_s[cmd_name]:.2f} | {', '.join(found) if found else 'none'} |")
    lines.append("")
    return "\n".join(lines)


def target_notes(sample: SampleResults, asm: AssemblyResults) -> list[str]:
    """What the rebuild targets compare, and why the naive target is out of reach here."""
    lines: list[str] = []
    force, bare = sample.series.median("force"), sample.series.median("force_nosections")
    if force is not None:
        lines.append(
            "The cached rebuild (`--force`) finds every clip and every encoded section in the cache, as a "
            "producer's rebuild does: it lays the episode out, reads the sections back and joins their "
            "frames, so it encodes nothing"
            + (f" (the same rebuild with the sections cache emptied, i.e. the sample's assembly: "
               f"{bare:.2f} s)" if bare is not None else "")
            + ". The incremental rebuild starts from the unedited build's cache, sections included, and "
              "encodes only the sections the edit touches, so the 1.5x target leaves half a cached rebuild "
              "for encoding them.")
    lengths = [ep.minutes for ep in asm.episodes]
    if lengths:
        longest = max(lengths)
        s = asm.series
        pipe, floor = s.median(f"pipeline/{longest}"), s.median(f"floor/{longest}")
        naive, label = naive_estimate(asm, longest)
        workers = _stage_workers(asm)
        if pipe and floor and naive and not label:
            q = naive / floor
            lines.append(
                f"The naive target cannot be met on this workload: the naive script's own export is one "
                f"LAME encode of the whole episode from a WAV, the same work as the floor, and at {longest} "
                f"min the naive takes {q:.2f}x the floor. The pipeline LAME-encodes the same samples too "
                f"(and measures them before and after), so spread over its {workers} worker thread(s) it "
                f"cannot take much less than the floor / {workers}: it can be at most about {q:.2f} × "
                f"{workers} = {q * workers:.1f}x faster than the naive; at its measured "
                f"{pipe / floor:.2f}x the floor it is {naive / pipe:.2f}x."
                + _cpu_bound(s.cpu(f"pipeline/{longest}"), s.cpu(f"floor/{longest}"), naive, workers))
    return [line for text in lines for line in (text, "")]


def _cpu_bound(pipe_cpu: float | None, floor_cpu: float | None, naive: float, workers: int) -> str:
    """Why measuring what it encodes keeps the pipeline from the naive target."""
    if not pipe_cpu or not floor_cpu:
        return ""
    return (f" It also measures each section before encoding and decodes and measures the encoded frames "
            f"after: {pipe_cpu:.1f} CPU-s against the floor's {floor_cpu:.1f}, so on {workers} CPUs it "
            f"cannot take much less than {pipe_cpu / workers:.1f} s ({naive / (pipe_cpu / workers):.1f}x the "
            f"naive at best). 10x would need the whole build under {naive / 10:.1f} s, about what LAME alone "
            f"costs spread over {workers} CPUs, with no CPU left to measure the loudness of what it encodes.")


def _stage_workers(asm: AssemblyResults) -> int:
    """Worker threads the encode stage used (from the stage breakdown), else the CPUs usable."""
    for runs in asm.stages.values():
        for run in runs:
            return int(run["pool"])
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def render_sample(sample: SampleResults) -> list[str]:
    """The sample issue's section."""
    if not sample.segments:
        return []
    sections = f"{statistics.median(sample.sections):g}" if sample.sections else "?"
    edited = f"{statistics.median(sample.sections_edited):g}" if sample.sections_edited else "?"
    lines = ["## Sample issue", "",
             f"`seeds/ai-weekly/2024-02-3.yaml`, `--engine espeak`: {sample.segments} segments, "
             f"{sample.duration_s / 60:.1f} minutes, {sections} encoded sections. Each repetition copies the "
             "show folder to a temporary directory and runs the CLI in subprocesses with an empty cache "
             "folder, the cases in the order of the table: the cold build fills the cache with the clips "
             "and the encoded sections; the cached rebuild (`--force`) finds both; then the sections cache "
             "(`<cache>/sections`) is emptied and `--force` runs again with only the clips cached (it "
             "encodes every section and stores them again); the \"up to date\" rebuild; then the edit, "
             f"which changes one summary ({EDIT[0]} → {EDIT[1]}), segment `{sample.segment}` "
             f"({sample.segment_audio_s:.1f} s of speech), rebuilt from that cache (clips and sections of "
             f"the unedited build): it synthesized that segment and encoded {edited} section(s) (new files "
             "in the sections cache).", "",
             "| case | seconds | peak RSS (MB) |", "|---|---|---|"]
    for key, label in SAMPLE_CASES:
        lines.append(f"| {label} | {fmt_s(sample.series.seconds.get(key))} | "
                     f"{fmt_mb(sample.series.peak(key))} |")
    return [*lines, ""]


def render_assembly(asm: AssemblyResults) -> list[str]:
    """The assembly section (the stage breakdown follows it)."""
    if not asm.episodes:
        return []
    from podcast.input.show import LoudnessTarget, Music

    music, target = Music(), LoudnessTarget()
    lines = ["## Assembly of long episodes", "",
             f"Synthetic issues of {CLIPS_PER_MINUTE} clips per minute, each clip {CLIP_S} seconds of "
             f"espeak-ng speech, {CLIPS_PER_SEGMENT} clips per segment (intro, entries, outro; a "
             f"`[pause {GAP_MS}ms]` between the clips of a segment, so each is one engine request). "
             "The clips are the sample issue's own espeak clips "
             f"(Mandarin voice `cmn`, 22.05 kHz mono), trimmed, joined and cut into {CLIP_S}-second "
             "pieces; episodes cycle through that pool (real speech matters for the loudness measurement, "
             "the limiter and the encoder). They are stored with `ClipCache.put` under the keys the "
             "espeak engine would use, so nothing is synthesized. (With one clip per segment a 90-minute "
             "episode has 270 chapters; see the target about it.)", "",
             "- **pipeline**: `podcast build ISSUE --engine espeak --force` with every clip cached and the "
             "encoded-section cache (`<cache>/sections`) emptied before every run, so that every section is "
             "encoded (with the sections cached the build would only read them back): process start, cache "
             "reads, layout of the clips, pauses and the packaged intro/outro music cut into sections; each "
             "section rendered, measured, encoded with gain + limiter + LAME while a second ffmpeg measures "
             "the encoded frames (two sections at a time on 2 CPUs), and stored in the cache; the frames "
             "joined behind an Info frame; ID3 chapters, transcripts, notes, manifest.",
             f"- **floor**: one `ffmpeg -i voice.wav {' '.join(MP3_ARGS)} out.mp3` of a WAV prepared in "
             f"advance holding the same clips with {GAP_MS} ms gaps (22.05 kHz mono s16, as cached), so "
             "it decodes, resamples to 44.1 kHz stereo and encodes with the show's MP3 settings. No music, "
             "no loudness.",
             "- **naive**: the same job done the way a pydub script would, in a child process: the packaged "
             "intro music as an `AudioSegment` (decoded to 44.1 kHz stereo 16-bit PCM with "
             "`audio.ffmpeg.decode`, since pydub's `from_file` needs ffprobe, which imageio-ffmpeg does not "
             f"ship) at {music.volume_db:g} dB (`apply_gain`, the show's music volume); then for every "
             "cached clip (`ClipCache.get`, 22.05 kHz mono) `episode = episode + silence("
             f"{GAP_MS} ms) + clip` (pydub converts each clip to 44.1 kHz stereo with `audioop` as it "
             f"appends, and copies the whole episode at each `+`); {music.tail_s:g} s of silence; the outro "
             f"music at {music.volume_db:g} dB `overlay`-ed on the end; "
             f"`apply_gain({target.integrated_lufs:g} - episode.dBFS)` (pydub's RMS level taken for the "
             "loudness target: no LUFS, no limiter, no "
             "true-peak control); `export(mp3, bitrate='128k', parameters=['-ar', '44100', '-ac', '2'])` "
             "(pydub writes a WAV temp file and runs ffmpeg, pointed at imageio-ffmpeg's). No ducking, no "
             "chapters, transcripts or notes. Timed in three parts: join (music decode and the loop), "
             "overlay + gain, export.",
             "- **CPU**: user + system time of the case's whole process tree (on 2 CPUs it can reach twice "
             "the wall time).",
             "- **peak RSS**: `ru_maxrss` of the case's process tree (`wait4`), i.e. of its largest single "
             "process: the Python process or one of its ffmpeg children. Each case is started from a "
             "small launcher interpreter, because a child's `ru_maxrss` starts at the size of the process "
             "that forked it.", ""]
    if asm.naive_cap is not None:
        lines += [f"The naive loop was capped at {asm.naive_cap} minutes (`--naive-max-minutes`); longer "
                  "lengths show an *extrapolated* time, marked with *.", ""]
    lines += ["The synthetic episodes cycle through a pool of clips, so many of their sections are "
              "identical: the sections column counts the distinct ones the build stored. Every section "
              "is encoded all the same (the build looks all of them up before encoding any; see the "
              "number of encodes under \"Where the time goes\").", "",
              "| minutes | clips / segments / distinct sections | episode | pipeline s | floor s | naive s | "
              "pipeline / floor | naive / pipeline | CPU s pipeline / floor / naive | "
              "peak MB pipeline / floor / naive |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    s = asm.series
    for ep in asm.episodes:
        m = ep.minutes
        pipe, floor = s.median(f"pipeline/{m}"), s.median(f"floor/{m}")
        naive, label = naive_estimate(asm, m)
        naive_txt = fmt_s(s.seconds.get(f"naive/{m}")) if not label else (
            f"{naive:.1f}*" if naive is not None else "—")
        r1, r2 = _ratio(pipe, floor), _ratio(naive, pipe)
        dur = asm.durations.get(m, 0.0)
        lines.append(f"| {m} | {ep.clips} / {ep.segments} / {asm.sections.get(m, '?')} | "
                     f"{int(dur // 60)}:{int(dur % 60):02d} | "
                     f"{fmt_s(s.seconds.get(f'pipeline/{m}'))} | {fmt_s(s.seconds.get(f'floor/{m}'))} | "
                     f"{naive_txt} | {'—' if r1 is None else f'{r1:.2f}x'} | "
                     f"{'—' if r2 is None else f'{r2:.2f}x'}{'*' if label else ''} | "
                     + " / ".join(fmt_cpu(s.cpu(f"{case}/{m}")) for case in ("pipeline", "floor", "naive"))
                     + " | "
                     + " / ".join(fmt_mb(s.peak(f"{case}/{m}")) for case in ("pipeline", "floor", "naive"))
                     + " |")
    labels = {m: naive_estimate(asm, m)[1] for m in (ep.minutes for ep in asm.episodes)}
    notes = sorted({v for v in labels.values() if v})
    lines += [""] + [f"\\* naive time {n}." for n in notes] + ([""] if notes else [])
    if asm.naive_parts:
        lines += ["Naive script split (median seconds): " + "; ".join(
            f"{m} min: join {statistics.median(j for j, _, _ in parts):.1f} + overlay/gain "
            f"{statistics.median(g for _, g, _ in parts):.1f} + export "
            f"{statistics.median(e for _, _, e in parts):.1f}"
            for m, parts in sorted(asm.naive_parts.items())) + ".", ""]
        floor_ratio = [(m, statistics.median(e for _, _, e in parts) / f)
                       for m, parts in sorted(asm.naive_parts.items())
                       if (f := s.median(f"floor/{m}"))]
        if floor_ratio:
            lines += ["The naive export alone against the floor (both one LAME encode of the episode): "
                      + "; ".join(f"{m} min {r:.2f}x" for m, r in floor_ratio) + ".", ""]
    if asm.loudness:
        lines += ["Pipeline loudness of the encoded files: " + "; ".join(
            f"{m} min {v}" for m, v in sorted(asm.loudness.items())) + ".", ""]
    return lines


def aggregate_stages(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Of repeated stage-breakdown runs of one length, the one with the median total (so that its
    stages and their parts add up); the one-worker what-if as medians over the runs that have it."""
    totals = [sum(st["s"] for st in r["stages"]) for r in runs]
    middle = sorted(range(len(runs)), key=lambda i: totals[i])[(len(runs) - 1) // 2]
    chosen = runs[middle]
    out = {**chosen, "runs": len(runs), "total": totals[middle]}
    with_whatif = [r["whatif"] for r in runs if "whatif" in r]
    if with_whatif:
        out["whatif"] = {k: statistics.median(w[k] for w in with_whatif)
                         for k in ("s", "py_cpu", "ff_cpu", "encode_calls")}
        encode = [next((st for st in r["stages"] if st["name"] == "encode"), None)
                  for r in runs if "whatif" in r]
        out["whatif"]["two_s"] = statistics.median(st["s"] for st in encode if st is not None)
        out["whatif_runs"] = len(with_whatif)
    return out


STAGES = {
    "load": "load issue, render script, plan, fingerprint",
    "clips": "read clips from the cache (WAV + checksum)",
    "mix": "lay out the timeline and cut it into sections (`assemble.mix`)",
    "encode": "loudness + encode (`loudness.encode_normalized`)",
    "id3": "ID3 tags and chapters (`write_id3`)",
    "texts": "chapters JSON, transcripts, notes, manifest hash",
}
"""The stages of the breakdown, in the build's order."""
MIX_PARTS = {
    "trim": "trim clip edges (`assemble.trim`)",
    "digest": "hash the trimmed clips for the section keys (`assemble._digest`)",
    "decode": "decode the intro/outro music (ffmpeg)",
}
"""Timed calls inside ``assemble.mix`` (main thread)."""


def render_stages(res: AssemblyResults) -> list[str]:
    """The per-stage breakdown section."""
    if not res.stages:
        return []
    stages = {m: aggregate_stages(runs) for m, runs in res.stages.items()}
    lengths = sorted(stages)
    longest = lengths[-1]
    top = stages[longest]
    total = top["total"]
    none = {"s": 0.0, "calls": 0, "py_cpu": 0.0, "ff_cpu": 0.0}

    def stage(m: int, name: str) -> dict[str, Any]:
        found: dict[str, Any] = next((st for st in stages[m]["stages"] if st["name"] == name),
                                     {**none, "peak": 0.0})
        return found

    def part(m: int, *keys: str) -> dict[str, Any]:
        """The sum of the timed calls *keys* at *m* minutes."""
        got = [stages[m]["parts"].get(k, none) for k in keys]
        return {f: sum(g[f] for g in got) for f in ("s", "calls", "py_cpu", "ff_cpu")}

    def derived(fn: Callable[[int], float]) -> str:
        return " | ".join(f"{fn(m):.2f}" for m in lengths)

    def part_s(*keys: str) -> str:
        return " | ".join(f"{part(m, *keys)['s']:.2f}" for m in lengths)

    def stage_s(name: str) -> str:
        return " | ".join(f"{stage(m, name)['s']:.2f}" for m in lengths)

    def busy(m: int) -> float:
        return float(part(m, "section", "put")["s"])

    def outside(m: int) -> float:
        return float(stage(m, "encode")["s"] - stages[m]["span_s"])

    pool = top["pool"]
    lines = ["## Where the time goes", "",
             f"Per length, the run with the median total of {top['runs']} run(s) of a child process that "
             "calls the build's stage functions itself, in `podcast.build._build`'s order (load + plan + "
             "fingerprint, `synthesize.run` serving every clip from the cache, `assemble.mix`, "
             "`loudness.encode_normalized` into an empty section cache, `chapters.write_id3`, then the text "
             "outputs). Functions inside the mix and the encode stage are wrapped with timers in that "
             "process only (`podcast/` is not modified).",
             "",
             f"The encode stage works in {pool} worker thread(s) (`loudness.workers()` = {top['workers']}), "
             "each taking one section at a time: rows marked *busy* are the time of calls made in the worker "
             "threads, **summed over the threads**, so they can add up to more than the stage's wall time; "
             "their share is of the workers' summed busy time, not of the total. The stage's wall time is "
             "split into the span from the first section started to the last one finished, and the work "
             "before and after it in the main thread. `Mix.render` runs inside the call that consumes its "
             "blocks (the measurement, or an encode), which is why rendering and resampling appear under "
             "both.",
             "",
             "CPU is user + system time, Python + ffmpeg. For a stage: of the whole Python process (all "
             "threads) and of the ffmpeg processes finished during it. For a call: of the calling thread "
             "(`time.thread_time`) and of the ffmpeg processes that thread waited for during the call (the "
             "stage process replaces `os.waitpid` by `os.wait4` to get their usage); ffmpeg runs its "
             "filters and the encoder in separate threads, so its CPU time can exceed the wall time. Not "
             "included: interpreter start and imports, the episode lock, staging and fsync of the outputs "
             "(the CLI total minus the sum of the stages, last row).",
             "",
             "| stage | " + " | ".join(f"{m} min s" for m in lengths) + f" | share at {longest} min | "
             f"CPU s at {longest} min (Python + ffmpeg) | peak RSS during stage at {longest} min (MB) |",
             "|---|" + "---|" * len(lengths) + "---|---|---|"]

    def row(label: str, values: str, share: str, cpu: dict[str, Any] | None, peak: str = "") -> None:
        cpu_txt = "" if cpu is None else f"{cpu['py_cpu']:.1f} + {cpu['ff_cpu']:.1f}"
        lines.append(f"| {label} | {values} | {share} | {cpu_txt} | {peak} |")

    def indent(level: int, label: str) -> str:
        return "&nbsp;&nbsp;" * (2 * level - 1) + "↳ " + label

    def calls(m: int, *keys: str) -> str:
        n = part(m, *keys)["calls"]
        return f" (×{n})" if n > 1 else ""

    leaves: list[tuple[str, float]] = []
    for name, label in STAGES.items():
        st = stage(longest, name)
        title = label if name != "encode" else f"{label}, {pool} worker thread(s)"
        row(f"**{title}**", stage_s(name),
            f"{100 * st['s'] / total:.0f}%", st, f"{st['peak']:,.0f}")
        if name == "mix":
            for key, text in MIX_PARTS.items():
                q = part(longest, key)
                row(indent(1, text + calls(longest, key)), part_s(key),
                    f"{100 * q['s'] / total:.0f}%", q)
                leaves.append((f"mix: {text}", q["s"]))
            rest = {f: st[f] - part(longest, *MIX_PARTS)[f] for f in ("s", "py_cpu", "ff_cpu")}
            row(indent(1, "rest: layout, cutting into sections, music envelopes and file hashes (Python)"),
                derived(lambda m: float(stage(m, "mix")["s"] - part(m, *MIX_PARTS)["s"])),
                f"{100 * rest['s'] / total:.0f}%", rest)
            leaves.append(("mix: layout and cutting (Python)", rest["s"]))
        elif name == "encode":
            row(indent(1, "in the main thread before and after the workers: section keys, cache lookups, "
                          "frame-count checks, Info frame, writing the MP3"), derived(outside),
                f"{100 * outside(longest) / total:.0f}%", None)
            row(indent(1, "worker threads, from the first section started to the last finished (wall)"),
                derived(lambda m: float(stages[m]["span_s"])), f"{100 * top['span_s'] / total:.0f}%", None)
            leaves += [("encode: main thread before/after the workers", outside(longest)),
                       ("encode: worker threads' span", top["span_s"])]
            b = busy(longest)

            def share(*keys: str, b: float = b) -> str:
                return f"{100 * part(longest, *keys)['s'] / b:.0f}% of busy" if b else ""

            row(indent(2, f"*busy*, summed over the threads: per section (`encode_section` + "
                          f"`SectionCache.put`){calls(longest, 'section')}"), derived(busy), "100% of busy",
                part(longest, "section", "put"))
            for key, text in (("measure", "measure the section: `audio.integrated_loudness` (render → ffmpeg "
                                          "ebur128, no peak)"),
                              ("encode", "encode + measure the encoded frames, pipelined: "
                                         "`audio.encode_measured` (render → ffmpeg gain + alimiter + LAME → "
                                         "ffmpeg ebur128 true peak)")):
                row(indent(3, f"*busy* {text}{calls(longest, key)}"),
                    part_s(key), share(key), part(longest, key))
                rk = f"render:{key}"
                row(indent(4, f"*busy* of which rendering the blocks in Python (`Mix.render`)"
                              f"{calls(longest, rk)}"),
                    part_s(rk), share(rk), part(longest, rk))
            row(indent(3, "*busy* resample the section's clips once (`Mix.voices` → `audio.resample_mono`, "
                          "libsoxr)" + calls(longest, "resample")),
                part_s("resample"), share("resample"), part(longest, "resample"))
            row(indent(3, "*busy* store the encoded section (`SectionCache.put`)" + calls(longest, "put")),
                part_s("put"), share("put"), part(longest, "put"))
        else:
            leaves.append((label, st["s"]))
    sums = [stages[m]["total"] for m in lengths]
    cpu_all = {f: sum(st[f] for st in top["stages"]) for f in ("py_cpu", "ff_cpu")}
    row("**sum of the stages**", " | ".join(f"{v:.2f}" for v in sums), "100%", cpu_all)
    cli = [res.series.median(f"pipeline/{m}") for m in lengths]
    lines.append("| CLI build (median, above) minus the sum: startup, lock, staging, fsync (other runs, "
                 "so noise can make it negative) | " +
                 " | ".join("—" if c is None else f"{c - v:.2f}" for c, v in zip(cli, sums, strict=True)) +
                 " | | | |")
    lines.append("")
    leaves.sort(key=lambda item: -item[1])
    lines += [f"Largest items of the wall time at {longest} min: " + "; ".join(
        f"{name} {sec:.1f} s ({100 * sec / total:.0f}%)" for name, sec in leaves[:5]) + ".", ""]
    b = busy(longest)
    if b:
        render_s = part(longest, "render:measure", "render:encode")["s"]
        resample = part(longest, "resample")
        lines += [f"Inside the workers at {longest} min: {b:.1f} s busy over a {top['span_s']:.1f} s span on "
                  f"{pool} thread(s) ({100 * b / (top['span_s'] * pool):.0f}% busy); of the busy time, "
                  f"encode + measure {100 * part(longest, 'encode')['s'] / b:.0f}%, measuring the section "
                  f"first {100 * part(longest, 'measure')['s'] / b:.0f}%, rendering (inside both) "
                  f"{100 * render_s / b:.0f}%, resampling the clips {100 * resample['s'] / b:.0f}%.", ""]
    passes = top["encode_calls"] + top["sections"]
    lines += [f"At {longest} min the episode is {top['duration_s'] / 60:.1f} minutes in {top['sections']} "
              f"sections (the longest {top['longest_section_s']:.0f} s), encoded {pool} at a time; "
              f"{top['encode_calls']} encodes for {top['sections']} sections: {top['reencoded']} section(s) "
              f"missed the loudness target on the first encode and were encoded again{misses(top)}. "
              "Each section is "
              f"rendered once per pass (its measurement and each encode: {passes} renders) from its clips, "
              f"resampled once per section: {resample_calls(top)} `resample_mono` calls for {top['clips']} "
              f"clips. The stage process peaked at {top['peak_mb']:,.0f} MB; the MP3 is "
              f"{top['mp3_mb']:.0f} MB. "
              + ("Peak RSS per stage is measured by resetting the peak (`/proc/self/clear_refs`) before "
                 "each stage." if top["per_stage_peaks"] else
                 "Per-stage peaks are cumulative (this system cannot reset the peak)."), ""]
    naive = res.naive_parts.get(longest)
    if naive:
        join = statistics.median(j for j, _, _ in naive)
        render_s = part(longest, "render:measure", "render:encode")["s"]
        per_pass = render_s * top["sections"] / passes if passes else 0.0
        lines += [f"Joining, for information (not a target): at {longest} min the naive script's join (music "
                  f"decode and the `+` loop) takes {join:.1f} s; the pipeline's counterpart is its layout "
                  f"(`assemble.mix`, {stage(longest, 'mix')['s']:.1f} s) plus rendering the sections' audio "
                  f"in blocks ({render_s:.1f} s summed over the threads for {passes} renders, about "
                  f"{per_pass:.1f} s for one render of every section).", ""]
    if "whatif" in top:
        lines += render_whatif(top, longest, res.series.median(f"floor/{longest}"))
    return lines


def misses(top: dict[str, Any]) -> str:
    """Which sections were encoded more than once, and what their first encode measured."""
    passes = top.get("passes") or []
    counts: dict[int, int] = defaultdict(int)
    for p in passes:
        counts[p["section"]] += 1
    again = {k for k, n in counts.items() if n > 1}
    if not again:
        return ""
    firsts: dict[int, dict[str, Any]] = {}
    for p in passes:
        firsts.setdefault(p["section"], p)
    lufs, tolerance, dbtp = top["target"]
    shown = sorted((firsts[k] for k in again), key=lambda p: p["section"])
    with_music = sum(1 for p in shown if p["music"])
    return (f" ({with_music} of them with the intro/outro music; their first encode measured "
            + ", ".join(f"{p['lufs']:.1f} LUFS / {p['dbtp']:.1f} dBTP" for p in shown[:6])
            + (", …" if len(shown) > 6 else "")
            + f" against the target {lufs:g} LUFS ± {tolerance:g} LU, at most {dbtp:g} dBTP)")


def resample_calls(top: dict[str, Any]) -> int:
    """``resample_mono`` calls in a stage-breakdown run."""
    return sum(int(q["calls"]) for k, q in top["parts"].items() if k == "resample")


def render_whatif(top: dict[str, Any], minutes: int, floor: float | None) -> list[str]:
    """The one-worker encode and what it shows."""
    w = top["whatif"]
    pool = top["pool"]
    lines = [f"### What the second CPU buys ({minutes}-minute episode, median of {top['whatif_runs']} "
             "run(s))", "",
             "In the stage process, after the stages: `loudness.encode_normalized` of the same mix again, "
             "into an empty section cache in a temporary folder, with `loudness.workers` patched to return "
             "1.", "",
             "| encode stage | wall s | CPU s (Python + ffmpeg) | encodes |", "|---|---|---|---|",
             f"| {pool} worker thread(s), as the build (the stage above) | {w['two_s']:.2f} | "
             f"{top_stage_cpu(top)} | {top['encode_calls']} |",
             f"| 1 worker thread | {w['s']:.2f} | {w['py_cpu']:.1f} + {w['ff_cpu']:.1f} | "
             f"{w['encode_calls']:g} |", ""]
    if w["two_s"] and w["s"]:
        lines.append(f"With {pool} worker thread(s) the stage takes {w['two_s'] / w['s']:.2f} of its "
                     f"one-thread time ({w['s'] / w['two_s']:.2f}x faster). With one thread it already "
                     f"keeps {(w['py_cpu'] + w['ff_cpu']) / w['s']:.1f} CPUs busy on average (CPU / wall): "
                     "each encode runs two ffmpeg processes at once (the encoder, and the decoder + meter "
                     "reading its output), and ffmpeg runs its filters and the encoder in threads of their "
                     "own.")
    if floor is not None:
        lines.append(f"For what LAME alone costs on this audio, see the floor above: {floor:.1f} s at "
                     f"{minutes} min for one ffmpeg decoding the voice WAV, resampling it and encoding it; "
                     "the one-thread encode stage does that encoding too, and also renders every section at "
                     "least twice, measures it before encoding and measures the encoded frames.")
    return [*lines, ""]


def top_stage_cpu(top: dict[str, Any]) -> str:
    """Python + ffmpeg CPU seconds of the encode stage of a stage-breakdown run."""
    st = next((st for st in top["stages"] if st["name"] == "encode"), None)
    return "—" if st is None else f"{st['py_cpu']:.1f} + {st['ff_cpu']:.1f}"


# ---------------------------------------------------------------------------------------------
# main


def main() -> None:
    """Run every case and write the report."""
    if sys.argv[1:2] == ["_child"]:
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=None, help="runs per case (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: 1 repeat, {'/'.join(map(str, QUICK_MINUTES))}-minute episodes, "
                             "8 edge segments; writes to a temporary file unless --output is given")
    parser.add_argument("--minutes", type=lambda v: tuple(int(x) for x in v.split(",")), default=None,
                        help="episode lengths for the assembly cases "
                             f"(default {','.join(map(str, MINUTES))})")
    parser.add_argument("--naive-max-minutes", type=int, default=None,
                        help="run the naive pydub loop only up to this length; longer ones are extrapolated")
    parser.add_argument("--edge-segments", type=int, default=None, help="edge workload size (default 30)")
    parser.add_argument("--latency", type=float, default=0.4, help="fake edge service latency (s)")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: "
                        "sample,assembly,stages,edge,startup (sample is needed by assembly)")
    parser.add_argument("--output", type=Path, default=None, help=f"report path (default {DEFAULT_OUTPUT})")
    args = parser.parse_args()
    args.repeat = args.repeat or (1 if args.quick else 3)
    minutes = args.minutes or (QUICK_MINUTES if args.quick else MINUTES)
    edge_segments = args.edge_segments or (8 if args.quick else 30)
    skip = set(filter(None, args.skip.split(",")))
    quick_output = Path(tempfile.gettempdir()) / "benchmarks-quick.md"
    output = args.output or (quick_output if args.quick else DEFAULT_OUTPUT)
    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()

    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    load_start = load_average()
    info = machine_info()

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - clock:7.1f} s] {text}", file=sys.stderr, flush=True)

    startup: dict[str, set[str]] = {}
    import_s: dict[str, float] = {}
    startup_times = Series()
    commands = {"--help": ["--help"], "validate": ["validate", str(SAMPLE_DIR / SAMPLE_NAME)]}
    if "startup" not in skip:
        for name, cmd in commands.items():
            say(f"startup: podcast {name}")
            startup[name], import_s[name] = imported_modules(cmd)
            for _ in range(args.repeat):
                startup_times.add(name, run_measured(podcast_cmd(*cmd), clean_env(), cwd=ROOT))

    sample = SampleResults()
    asm = AssemblyResults(naive_cap=args.naive_max_minutes)
    edge: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="podcast-bench-") as tmp_name:
        tmp = Path(tmp_name)
        pool_cache = tmp / "pool-cache"
        if "sample" not in skip:
            for i in range(args.repeat):
                say(f"sample issue: repetition {i + 1}/{args.repeat}")
                rep_dir = tmp / f"sample-{i}"
                rep_dir.mkdir()
                bench_sample(sample, rep_dir, pool_cache)
                shutil.rmtree(rep_dir)

        if "assembly" not in skip and pool_cache.exists():
            say("assembly: preparing the speech pool, issues and cache")
            pool = speech_pool(pool_cache, SAMPLE_DIR / SAMPLE_NAME)
            cache, asm.episodes = prepare_episodes(tmp / "assembly", pool, minutes)
            for i in range(args.repeat):
                say(f"assembly: repetition {i + 1}/{args.repeat} ({', '.join(map(str, minutes))} min)")
                bench_assembly_rep(asm, cache, tmp / "assembly", ffmpeg, stages="stages" not in skip,
                                   whatif=True)
            longest = max(minutes)
            say(f"assembly: {longest} min with one clip per segment")
            flat = check_one_clip_segments(tmp / "assembly", cache, pool, longest)
            asm.one_clip_segments = (longest, *flat)

        if "edge" not in skip:
            say("edge engine against the fake service")
            edge = bench_edge(args.repeat, edge_segments, args.latency)

    elapsed = time.perf_counter() - clock
    end_source = source_revision()
    if end_source != info["Source"]:
        info["Source"] = (f"**changed during the run**: {info['Source']} at the start, {end_source} at the "
                          "end; the figures mix both")
    report = render(args, info, started, elapsed, (load_start, load_average()), sample, asm,
                    startup_times, startup, import_s, edge, edge_segments)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report, encoding="utf-8")
    print(report)
    say(f"wrote {output}")


if __name__ == "__main__":
    main()
