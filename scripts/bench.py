"""Benchmark the producer on this machine and write ``docs/benchmarks.md`` (issue 9, "Fast at any length").

    pip install -e ".[dev,bench]"
    python scripts/bench.py                  # full run (about 40 minutes on 2 CPUs)
    python scripts/bench.py --quick          # smoke run: 1 repeat, short episodes, not written to docs/

Every case runs ``--repeat`` times (default 3) and the medians are reported, with the range.
Everything a user runs goes through the CLI in a subprocess (``python -m podcast ...``); peak
memory is the child's ``ru_maxrss`` from ``wait4`` (the largest single process of the tree: the
Python process or one of its ffmpeg children), each child started from a small launcher process.
The report records the commit measured and warns when ``podcast/`` changed during the run.

Cases:

- the sample issue (``seeds/ai-weekly/2024-02-3.yaml``) with the offline engine
  (``--engine espeak``): cold build into an empty cache; cached rebuild with ``--force``; the
  "up to date" no-op rebuild; rebuild after editing one entry's summary; ``podcast preview`` of
  that segment (cold cache and cached); and the synthesis of that one segment alone (a fresh
  process running the build's own plan + synthesize.run into an empty cache, timed around the
  synthesis only);
- assembly of synthetic 10/30/60/90-minute episodes made of 20-second clips (3 per minute, 2 per
  segment): ``podcast build --force --engine espeak`` with every clip already in the cache, next
  to (a) a naive pydub loop over the same cached clips and (b) the floor, one bare ffmpeg run
  turning a WAV of the same voice track into the same MP3 (44.1 kHz stereo 128k CBR
  libmp3lame); plus a per-stage breakdown from a child process that
  calls the pipeline's stage functions itself, and (at the longest length) what-if timings of
  alternative ffmpeg invocations on the same mix; and whether the longest episode builds with one
  clip per segment (270 chapters at 90 minutes);
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
         "podcast.engines.espeak", "podcast.audio", LIBESPEAK)
"""What ``--help`` and ``validate`` are checked for (reported)."""
AUDIO_TTS = ("numpy", "edge_tts", "aiohttp", "mutagen", "imageio_ffmpeg", "podcast.audio", LIBESPEAK)
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
    from podcast.project import load
    from podcast.report import Silent
    from podcast.synthesize import plan

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


SAMPLE_CASES = [
    ("cold", "cold build (empty cache)"),
    ("force", "cached rebuild, `--force` (all clips cached)"),
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

    m = run_measured(podcast_cmd(*build, "--force"), env)
    rep = _report(m)
    _expect(rep["segments"]["synthesized"] == 0 and not rep["skipped"], f"--force rebuild: {rep['segments']}")
    s.add("force", m)

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

    m = run_measured(podcast_cmd(*build), env)
    rep = _report(m)
    _expect(rep["segments"]["synthesized"] == 1 and not rep["skipped"],
            f"incremental rebuild should synthesize one segment: {rep['segments']}")
    s.add("incremental", m)

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

    from podcast.assemble import trim
    from podcast.build import BuildOptions, choose_engine
    from podcast.cache import ClipCache
    from podcast.engines.base import Clip
    from podcast.project import load
    from podcast.report import Silent
    from podcast.synthesize import plan

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

    from podcast.audio import write_wav
    from podcast.build import BuildOptions, choose_engine
    from podcast.cache import ClipCache
    from podcast.engines.base import Clip
    from podcast.project import load
    from podcast.report import Silent
    from podcast.synthesize import plan

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
    naive_parts: dict[int, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    stages: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    naive_cap: int | None = None
    one_clip_segments: tuple[int, bool, str] | None = None


def bench_assembly_rep(res: AssemblyResults, cache: Path, work: Path, ffmpeg: str, *, stages: bool,
                       whatif: bool) -> None:
    """One repetition of pipeline, floor, naive and the stage breakdown at every length (with
    *whatif*, the what-if timings at the longest)."""
    longest = max(ep.minutes for ep in res.episodes)
    for ep in res.episodes:
        m = ep.minutes
        out = work / "out"
        rep = run_measured(podcast_cmd("build", str(ep.issue), "--out", str(out), "--engine", "espeak",
                                       "--force", "--json"), clean_env(cache))
        data = _report(rep)
        _expect(data["segments"]["synthesized"] == 0, f"{m} min: clips were synthesized: {data['segments']}")
        res.durations[m] = data["duration_s"]
        loud = data["loudness"]
        res.loudness[m] = f"{loud['integrated_lufs']:.1f} LUFS / {loud['true_peak_dbtp']:.1f} dBTP"
        res.series.add(f"pipeline/{m}", rep)

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
            res.naive_parts[m].append((data["join_s"], data["export_s"]))
            naive_mp3.unlink()

        if stages:
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
    from podcast.cache import ClipCache
    from podcast.project import load
    from podcast.report import Silent
    from podcast.synthesize import plan, run

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
    """The naive way: pydub AudioSegments from the cached clips, ``episode = episode + clip``."""
    import imageio_ffmpeg

    from podcast.cache import ClipCache

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Couldn't find ffmpeg" (set below), audioop deprecation
        pydub = importlib.import_module("pydub")
    segment_cls = pydub.AudioSegment
    segment_cls.converter = imageio_ffmpeg.get_ffmpeg_exe()
    spec = json.loads(keys_file.read_text(encoding="utf-8"))
    cache = ClipCache(Path(spec["cache"]))
    started = time.perf_counter()
    episode: Any = None
    for key in spec["keys"]:
        clip = cache.get(key)
        if clip is None:
            raise RuntimeError(f"clip {key} missing")
        seg = segment_cls(data=clip.samples.tobytes(), sample_width=2, frame_rate=clip.sample_rate,
                          channels=1)
        if episode is None:
            episode = seg
        else:
            episode = episode + segment_cls.silent(duration=GAP_MS, frame_rate=clip.sample_rate) + seg
    joined = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        episode.export(str(out), format="mp3", bitrate="128k", parameters=["-ar", "44100", "-ac", "2"])
    done = time.perf_counter()
    return {"join_s": joined - started, "export_s": done - joined, "peak_mb": self_peak_mb()}


def cpu_now() -> tuple[float, float]:
    """CPU seconds (user + system) used so far by this process and by its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


class StageClock:
    """Wall and CPU times of the pipeline's stages and of the ffmpeg work inside them."""

    def __init__(self) -> None:
        self.stages: list[dict[str, Any]] = []
        self.parts: dict[str, dict[str, Any]] = {}
        self.excerpt = False
        self.peak_reset = reset_peak()

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

    def wrap(self, owner: Any, attr: str, label: Callable[[], str]) -> None:
        """Replace ``owner.attr`` (in this process only) by a timed call of the original."""
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started, (py, ff) = time.perf_counter(), cpu_now()
            try:
                return original(*args, **kwargs)
            finally:
                py2, ff2 = cpu_now()
                part = self.parts.setdefault(label(), {"s": 0.0, "calls": 0, "py_cpu": 0.0, "ff_cpu": 0.0})
                part["s"] += time.perf_counter() - started
                part["calls"] += 1
                part["py_cpu"] += py2 - py
                part["ff_cpu"] += ff2 - ff

        setattr(owner, attr, timed)

    def in_excerpt(self, owner: Any, attr: str) -> None:
        """Mark calls made during ``owner.attr`` as part of the excerpt trial."""
        original = getattr(owner, attr)

        def marked(*args: Any, **kwargs: Any) -> Any:
            self.excerpt = True
            try:
                return original(*args, **kwargs)
            finally:
                self.excerpt = False

        setattr(owner, attr, marked)


def child_stages(issue: Path, cache_dir: Path, out: Path, whatif: bool) -> dict[str, Any]:
    """The build's stages, called one by one as ``podcast.build._build`` calls them, timed."""
    from podcast import assemble, audio, loudness
    from podcast.build import BuildOptions, choose_engine, input_fingerprint, policy_for, tags_for
    from podcast.cache import ClipCache
    from podcast.chapters import chapters_for, chapters_json, write_id3
    from podcast.notes import render_notes
    from podcast.project import load
    from podcast.report import Silent
    from podcast.synthesize import plan, run
    from podcast.transcript import captions, to_srt, to_vtt

    clock = StageClock()
    clock.wrap(assemble, "trim", lambda: "mix: trim clip edges")
    clock.wrap(assemble, "resample", lambda: "mix: resample voice to 44.1 kHz (ffmpeg soxr)")
    clock.wrap(assemble, "decode", lambda: "mix: decode music (ffmpeg)")
    clock.wrap(audio, "measure", lambda: "excerpt: measure excerpt (ebur128)" if clock.excerpt
               else "loudness: measure the mix (ebur128, true peak)")
    clock.wrap(audio, "encode_mp3", lambda: "excerpt: trial encode (limiter + LAME)" if clock.excerpt
               else "final encode (gain, 4x-oversampled limiter, LAME)")
    clock.wrap(audio, "measure_file", lambda: "excerpt: measure trial MP3" if clock.excerpt
               else "measure the encoded file (decode + ebur128)")
    clock.in_excerpt(loudness, "encoding_loss")

    options = BuildOptions(engine="espeak", cache_dir=cache_dir, out_dir=out, skip_up_to_date=False)
    out.mkdir(parents=True, exist_ok=True)
    with clock.stage("load issue, render script, plan, fingerprint"):
        project, _ = load(issue, "espeak")
        engine, voice, _ = choose_engine(project, options, Silent())
        plans = plan(project.script, engine, voice, lexicon=project.lexicon)
        input_fingerprint(project, engine, plans)
    with clock.stage("read clips from the cache (WAV + checksum)"):
        synthesis = run(plans, engine, ClipCache(cache_dir), policy=policy_for(project.show, engine, options))
    _expect(synthesis.synthesized == 0, "the stage breakdown synthesized clips")
    with clock.stage("mix (trim, place, resample, music)"):
        episode = assemble.mix(plans, synthesis, project.show)
    chapters = chapters_for(project.script, episode)
    mp3 = out / f"{issue.stem}.mp3"
    with clock.stage("loudness + encode (encode_normalized)"):
        result = loudness.encode_normalized(episode, project.show, mp3)
    with clock.stage("ID3 tags and chapters (write_id3)"):
        write_id3(mp3, tags_for(project), chapters)
    with clock.stage("chapters JSON, transcripts, notes, manifest hash"):
        chapters_json(chapters, project.issue.title)
        caps = captions([c for p in episode.placements for c in p.cues], episode.duration_s)
        to_vtt(caps)
        to_srt(caps)
        render_notes(project.issue, project.show, project.script.language, chapters, episode.duration_s)
        hashlib.sha256(mp3.read_bytes()).hexdigest()
    data: dict[str, Any] = {
        "stages": clock.stages,
        "parts": clock.parts,
        "peak_mb": max(st["peak"] for st in clock.stages) if clock.peak_reset else self_peak_mb(),
        "per_stage_peaks": clock.peak_reset,
        "duration_s": episode.duration_s,
        "mix_mb": episode.samples.nbytes / 2**20,
        "loudness": [result.integrated_lufs, result.true_peak_db],
        "mp3_mb": mp3.stat().st_size / 2**20,
    }
    if whatif:
        data["whatif"] = whatifs(episode.samples, episode.sample_rate, mp3,
                                 project.show.loudness.true_peak_db)
    return data


def whatifs(samples: Any, rate: int, mp3: Path, true_peak_db: float) -> list[dict[str, Any]]:
    """Timings of alternative ffmpeg work on the same mix (what each piece of the encode costs)."""
    import numpy as np

    from podcast import audio

    channels = int(samples.shape[1])
    f32 = ["-f", "f32le", "-ar", str(rate), "-ac", str(channels), "-i", "-"]
    s16 = ["-f", "s16le", "-ar", str(rate), "-ac", str(channels), "-i", "-"]
    limit = min(1.0, max(0.0625, 10 ** ((true_peak_db - 1.0) / 20)))
    limiter = f"alimiter=limit={limit:.5f}:attack=2:release=80:level=false:latency=true"
    oversampled = f"volume=0dB,aresample={rate * 4},{limiter},aresample={rate}"
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        target = str(Path(folder) / "x.mp3")
        lame = ["-c:a", "libmp3lame", "-b:a", "128k", "-ar", str(rate), "-f", "mp3", "-y", target]
        started, (py, _) = time.perf_counter(), cpu_now()
        raw = samples.astype("<f4").tobytes()
        out.append({"key": "serialize",
                    "label": "Python: `samples.astype('<f4').tobytes()` (before each ffmpeg call on the mix)",
                    "s": time.perf_counter() - started, "cpu": cpu_now()[0] - py, "peak": None})
        runs: list[tuple[str, str, list[str], bytes | None]] = [
            ("pipe", "ffmpeg: read the f32le mix from a pipe, discard (`-f null`)",
             [*f32, "-f", "null", "-"], raw),
            ("ebur_none", "ffmpeg: ebur128 integrated + LRA, no peak (`peak=none`)",
             [*f32, "-af", "ebur128=framelog=quiet", "-f", "null", "-"], raw),
            ("ebur_sample", "ffmpeg: ebur128 with sample peak (`peak=sample`)",
             [*f32, "-af", "ebur128=peak=sample:framelog=quiet", "-f", "null", "-"], raw),
            ("ebur_true", "ffmpeg: ebur128 with true peak (`peak=true`, as `audio.measure`)",
             [*f32, "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"], raw),
            ("lame", "ffmpeg: LAME only (no gain, no limiter)", [*f32, *lame], raw),
            ("limit1x_lame", "ffmpeg: gain + limiter at 44.1 kHz (no oversampling) + LAME",
             [*f32, "-af", f"volume=0dB,{limiter}", *lame], raw),
            ("limit4x_null", "ffmpeg: gain + 4x-oversampled limiter, no encode (`-f null`)",
             [*f32, "-af", oversampled, "-f", "null", "-"], raw),
            ("limit4x_lame", "ffmpeg: gain + 4x-oversampled limiter + LAME (as `audio.encode_mp3`)",
             [*f32, "-af", oversampled, *lame], raw),
            ("lame_s16", "ffmpeg: LAME only, from an s16le pipe (half the bytes)", [*s16, *lame],
             np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes()),
            ("decode_mp3", "ffmpeg: decode the final MP3, discard",
             ["-i", str(mp3), "-f", "null", "-"], None),
            ("measure_mp3", "ffmpeg: decode the final MP3 + ebur128 true peak (as `audio.measure_file`)",
             ["-i", str(mp3), "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"], None),
        ]
        del raw
        base = [audio.ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error"]
        for key, label, args, data in runs:
            m = run_measured([*base, *args], data=data)
            out.append({"key": key, "label": label, "s": m.seconds, "cpu": m.cpu_s, "peak": m.peak_mb})
    return out


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
    out.append(Target("cached rebuild of the sample issue (`--force`) under 2 s",
                      None if force is None else force < 2.0, f"{force:.2f} s" if force is not None else ""))
    inc, synth = sample.series.median("incremental"), sample.series.median("synth")
    if inc is not None and force is not None and synth is not None:
        allowed = 1.5 * force + synth
        out.append(Target("incremental rebuild at most 1.5x a cached one plus the one segment's synthesis",
                          inc <= allowed,
                          f"{inc:.2f} s vs 1.5 × {force:.2f} + {synth:.2f} = {allowed:.2f} s"))
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


def render_sample(sample: SampleResults) -> list[str]:
    """The sample issue's section."""
    if not sample.segments:
        return []
    lines = ["## Sample issue", "",
             f"`seeds/ai-weekly/2024-02-3.yaml`, `--engine espeak`: {sample.segments} segments, "
             f"{sample.duration_s / 60:.1f} minutes. Each repetition copies the show folder to a temporary "
             "directory and runs the CLI in subprocesses with an empty cache folder. The edit changes one "
             f"summary ({EDIT[0]} → {EDIT[1]}), which is segment `{sample.segment}` "
             f"({sample.segment_audio_s:.1f} s of speech).", "",
             "| case | seconds | peak RSS (MB) |", "|---|---|---|"]
    for key, label in SAMPLE_CASES:
        lines.append(f"| {label} | {fmt_s(sample.series.seconds.get(key))} | "
                     f"{fmt_mb(sample.series.peak(key))} |")
    return [*lines, ""]


def render_assembly(asm: AssemblyResults) -> list[str]:
    """The assembly section (the stage breakdown follows it)."""
    if not asm.episodes:
        return []
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
             "- **pipeline**: `podcast build ISSUE --engine espeak --force` with every clip cached: "
             "process start, cache reads, mix with the packaged intro/outro music and pauses, loudness, "
             "encode, ID3 chapters, transcripts, notes, manifest.",
             f"- **floor**: one `ffmpeg -i voice.wav {' '.join(MP3_ARGS)} out.mp3` of a WAV prepared in "
             f"advance holding the same clips with {GAP_MS} ms gaps (22.05 kHz mono s16, as cached), so "
             "it decodes, resamples to 44.1 kHz stereo and encodes with the show's MP3 settings.",
             "- **naive**: a pydub loop in a child process: an `AudioSegment` from each cached clip's "
             f"PCM (read with `ClipCache.get`), `episode = episode + silence({GAP_MS} ms) + clip`, then "
             "`episode.export(mp3, bitrate='128k', parameters=['-ar', '44100', '-ac', '2'])` (pydub's "
             "converter pointed at imageio-ffmpeg's ffmpeg). No music, no loudness, no chapters.",
             "- **CPU**: user + system time of the case's whole process tree (on 2 CPUs it can reach twice "
             "the wall time).",
             "- **peak RSS**: `ru_maxrss` of the case's process tree (`wait4`), i.e. of its largest single "
             "process: the Python process or one of its ffmpeg children. Each case is started from a "
             "small launcher interpreter, because a child's `ru_maxrss` starts at the size of the process "
             "that forked it.", ""]
    if asm.naive_cap is not None:
        lines += [f"The naive loop was capped at {asm.naive_cap} minutes (`--naive-max-minutes`); longer "
                  "lengths show an *extrapolated* time, marked with *.", ""]
    lines += ["| minutes | clips / segments | episode | pipeline s | floor s | naive s | pipeline / floor | "
              "naive / pipeline | CPU s pipeline / floor / naive | peak MB pipeline / floor / naive |",
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
        lines.append(f"| {m} | {ep.clips} / {ep.segments} | {int(dur // 60)}:{int(dur % 60):02d} | "
                     f"{fmt_s(s.seconds.get(f'pipeline/{m}'))} | {fmt_s(s.seconds.get(f'floor/{m}'))} | "
                     f"{naive_txt} | {'—' if r1 is None else f'{r1:.2f}x'} | "
                     f"{'—' if r2 is None else f'{r2:.1f}x'}{'*' if label else ''} | "
                     + " / ".join(fmt_cpu(s.cpu(f"{case}/{m}")) for case in ("pipeline", "floor", "naive"))
                     + " | "
                     + " / ".join(fmt_mb(s.peak(f"{case}/{m}")) for case in ("pipeline", "floor", "naive"))
                     + " |")
    labels = {m: naive_estimate(asm, m)[1] for m in (ep.minutes for ep in asm.episodes)}
    notes = sorted({v for v in labels.values() if v})
    lines += [""] + [f"\\* naive time {n}." for n in notes] + ([""] if notes else [])
    if asm.naive_parts:
        lines += ["Naive loop split (median seconds): " + "; ".join(
            f"{m} min: join {statistics.median(j for j, _ in parts):.1f} + export "
            f"{statistics.median(e for _, e in parts):.1f}"
            for m, parts in sorted(asm.naive_parts.items())) + ".", ""]
    if asm.loudness:
        lines += ["Pipeline loudness of the encoded files: " + "; ".join(
            f"{m} min {v}" for m, v in sorted(asm.loudness.items())) + ".", ""]
    return lines


def aggregate_stages(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Of repeated stage-breakdown runs of one length, the one with the median total (so that its
    stages and their parts add up); the what-if timings as medians over the runs that have them."""
    totals = [sum(st["s"] for st in r["stages"]) for r in runs]
    middle = sorted(range(len(runs)), key=lambda i: totals[i])[(len(runs) - 1) // 2]
    chosen = runs[middle]
    out = {**chosen, "runs": len(runs), "total": totals[middle]}
    with_whatif = [r["whatif"] for r in runs if "whatif" in r]
    if with_whatif:
        rows = []
        for i, row in enumerate(with_whatif[0]):
            values = [w[i] for w in with_whatif]
            peaks = [v["peak"] for v in values if v["peak"] is not None]
            rows.append({**row, "s": statistics.median(v["s"] for v in values),
                         "cpu": statistics.median(v["cpu"] for v in values),
                         "peak": statistics.median(peaks) if peaks else None})
        out["whatif"], out["whatif_runs"] = rows, len(with_whatif)
    return out


PARTS_OF = {"mix": ("mix:",),
            "loudness + encode": ("loudness:", "excerpt:", "final encode", "measure the encoded")}
"""Which timed calls belong to which stage (by the start of their names)."""


def _parts_of(stage: str, parts: dict[str, dict[str, Any]]) -> list[str]:
    prefixes = next((pref for key, pref in PARTS_OF.items() if stage.startswith(key)), ())
    return [p for p in parts if prefixes and p.startswith(prefixes)]


def render_stages(res: AssemblyResults) -> list[str]:
    """The per-stage breakdown section."""
    if not res.stages:
        return []
    stages = {m: aggregate_stages(runs) for m, runs in res.stages.items()}
    lengths = sorted(stages)
    longest = lengths[-1]
    top = stages[longest]
    total = top["total"]
    lines = ["## Where the time goes", "",
             f"Per length, the run with the median total of {top['runs']} run(s) of a child process that "
             "calls the build's stage functions itself, in `podcast.build._build`'s order (load + plan + "
             "fingerprint, `synthesize.run` serving every clip from the cache, `assemble.mix`, "
             "`loudness.encode_normalized`, `chapters.write_id3`, then the text outputs). The ffmpeg "
             "helpers are wrapped with timers in that process only (`podcast/` is not modified) to split "
             "the mix and the loudness/encode stage. CPU is user + system time of the Python process and "
             "of its ffmpeg children (ffmpeg runs its filters and the encoder in separate threads, so its "
             "CPU time can exceed the wall time). Not included: interpreter start and imports, the episode "
             "lock, staging and fsync of the outputs (the CLI total minus the sum of the stages, last row).",
             "",
             "| stage | " + " | ".join(f"{m} min s" for m in lengths) + f" | share at {longest} min | "
             f"CPU s at {longest} min (Python + ffmpeg) | peak RSS during stage at {longest} min (MB) |",
             "|---|" + "---|" * len(lengths) + "---|---|---|"]

    def by_name(m: int, name: str) -> dict[str, Any]:
        return next((st for st in stages[m]["stages"] if st["name"] == name),
                    {"s": 0.0, "py_cpu": 0.0, "ff_cpu": 0.0})

    def part(m: int, name: str) -> dict[str, Any]:
        none = {"s": 0.0, "calls": 0, "py_cpu": 0.0, "ff_cpu": 0.0}
        got: dict[str, Any] = stages[m]["parts"].get(name, none)
        return got

    leaves: list[tuple[str, float]] = []
    for st in top["stages"]:
        name = st["name"]
        lines.append(f"| **{name}** | " + " | ".join(f"{by_name(m, name)['s']:.2f}" for m in lengths) +
                     f" | {100 * st['s'] / total:.0f}% | {st['py_cpu']:.1f} + {st['ff_cpu']:.1f} | "
                     f"{st['peak']:,.0f} |")
        sub = _parts_of(name, top["parts"])
        for p in sub:
            q = top["parts"][p]
            calls = f" (×{q['calls']})" if q["calls"] > 1 else ""
            lines.append(f"| &nbsp;&nbsp;↳ {p}{calls} | "
                         + " | ".join(f"{part(m, p)['s']:.2f}" for m in lengths)
                         + f" | {100 * q['s'] / total:.0f}% | {q['py_cpu']:.1f} + {q['ff_cpu']:.1f} | |")
            leaves.append((p, q["s"]))
        if sub:
            rest = [by_name(m, name)["s"] - sum(part(m, p)["s"] for p in sub) for m in lengths]
            py_rest = st["py_cpu"] - sum(top["parts"][p]["py_cpu"] for p in sub)
            lines.append("| &nbsp;&nbsp;↳ rest (numpy work in Python) | " +
                         " | ".join(f"{v:.2f}" for v in rest) +
                         f" | {100 * rest[-1] / total:.0f}% | {py_rest:.1f} + 0.0 | |")
            leaves.append((f"{name}: rest", rest[-1]))
        else:
            leaves.append((name, st["s"]))
    sums = [stages[m]["total"] for m in lengths]
    cpu_py = sum(st["py_cpu"] for st in top["stages"])
    cpu_ff = sum(st["ff_cpu"] for st in top["stages"])
    lines.append("| **sum of the stages** | " + " | ".join(f"{v:.2f}" for v in sums) +
                 f" | 100% | {cpu_py:.1f} + {cpu_ff:.1f} | |")
    cli = [res.series.median(f"pipeline/{m}") for m in lengths]
    lines.append("| CLI build (median, above) minus the sum: startup, lock, staging, fsync (other runs, "
                 "so noise can make it negative) | " +
                 " | ".join("—" if c is None else f"{c - v:.2f}" for c, v in zip(cli, sums, strict=True)) +
                 " | | | |")
    lines.append("")
    leaves.sort(key=lambda item: -item[1])
    lines += [f"Largest items at {longest} min: " + "; ".join(
        f"{name} {sec:.1f} s ({100 * sec / total:.0f}%)" for name, sec in leaves[:5]) + ".", ""]
    lines += [f"At {longest} min the mixed episode is {top['duration_s'] / 60:.1f} minutes, a float32 "
              f"array of {top['mix_mb']:,.0f} MB; the stage process peaked at {top['peak_mb']:,.0f} MB; the "
              f"MP3 is {top['mp3_mb']:.0f} MB. "
              + ("Peak RSS per stage is measured by resetting the peak (`/proc/self/clear_refs`) before "
                 "each stage." if top["per_stage_peaks"] else
                 "Per-stage peaks are cumulative (this system cannot reset the peak)."), ""]
    if "whatif" in top:
        lines += render_whatif(top, longest)
    return lines


def render_whatif(top: dict[str, Any], minutes: int) -> list[str]:
    """The what-if table and what it shows."""
    lines = [f"### What the encode's pieces cost ({minutes}-minute mix, median of {top['whatif_runs']} "
             "run(s) each)", "",
             "Alternative ffmpeg invocations on the same in-memory mix (in the stage process, after the "
             "stages), to show what each part of `measure` / `encode_mp3` / `measure_file` costs. These are "
             "not what the pipeline runs, except where noted.", "",
             "| work | wall s | CPU s | peak RSS of ffmpeg (MB) |", "|---|---|---|---|"]
    lines += [f"| {row['label']} | {row['s']:.2f} | {row['cpu']:.2f} | {fmt_mb(row['peak'])} |"
              for row in top["whatif"]]
    w = {row["key"]: row for row in top["whatif"]}
    n_full = sum(q["calls"] for k, q in top["parts"].items() if k.startswith(("loudness:", "final encode")))
    lame, lim4, lim1 = w["lame"], w["limit4x_lame"], w["limit1x_lame"]
    lines += ["", "Read from the rows above:", "",
              f"- true-peak detection is {w['ebur_true']['s'] - w['ebur_none']['s']:.1f} s of the "
              f"{w['ebur_true']['s']:.1f} s ebur128 measurement of the mix (`peak=none`: "
              f"{w['ebur_none']['s']:.1f} s);",
              f"- LAME alone takes {lame['s']:.1f} s; with the 4x-oversampled limiter in front "
              f"{lim4['s']:.1f} s wall but {lim4['cpu'] - lame['cpu']:.1f} CPU-s more (the filter runs in "
              f"its own thread, on the second CPU); a limiter without oversampling: {lim1['s']:.1f} s wall, "
              f"{lim1['cpu'] - lame['cpu']:+.1f} CPU-s; the oversampled limiter alone, without LAME: "
              f"{w['limit4x_null']['s']:.1f} s;",
              f"- decoding the MP3 is {w['decode_mp3']['s']:.1f} s of the {w['measure_mp3']['s']:.1f} s "
              "measurement of the encoded file;",
              f"- converting the mix to bytes for a pipe takes {w['serialize']['s']:.2f} s and transient "
              f"copies of {top['mix_mb']:,.0f} MB each (`astype` copies, then `tobytes` copies again); the "
              f"build does it {n_full} times on the full stereo mix (its measurement and each encode pass); "
              "shipping the bytes through a pipe to an ffmpeg that discards them takes "
              f"{w['pipe']['s']:.1f} s.", ""]
    return lines


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
