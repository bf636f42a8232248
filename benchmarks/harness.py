"""Measuring: commands in a launcher process (wall time, CPU of the tree, peak RSS), the machine."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "seeds" / "ai-weekly"
SAMPLE_NAME = "2024-02-3.yaml"

Json = dict[str, Any]


@dataclass(frozen=True)
class Measured:
    """One command run: wall time, peak RSS of its largest process, CPU of its whole tree, stdout."""

    seconds: float
    peak_mb: float
    cpu_s: float
    stdout: str

    def report(self) -> Json:
        """The stdout as JSON (``podcast build --json``)."""
        data: Json = json.loads(self.stdout)
        return data


LAUNCHER = """
import os, sys, time
result, cpus, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
if cpus != "all":
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:int(cpus)])
started = time.perf_counter()
pid = os.posix_spawn(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
with open(result, "w") as f:
    f.write(f"{elapsed!r} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime!r}")
sys.exit(code if code >= 0 else 128 - code)
"""
"""Runs a command and reports its wall time, ``ru_maxrss`` and CPU time. A child's ``ru_maxrss``
starts at the resident size of the process that forked it, so the measured command is started
from this small interpreter, not from the benchmark. With a CPU count, the command (and every
process it starts) may run on that many CPUs only."""


def run_measured(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None,
                 cpus: int | None = None) -> Measured:
    """Run *cmd*, which must succeed; its wall time, peak RSS and CPU time."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result"
        proc = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(result), str(cpus or "all"), *cmd],
                              capture_output=True, env=env, cwd=cwd, check=False)
        stdout = proc.stdout.decode("utf-8", errors="replace")
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.decode("utf-8", errors="replace").strip().splitlines()[-15:])
            raise RuntimeError(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
        seconds, maxrss, cpu = result.read_text().split()
    peak = int(maxrss) / 2**20 if sys.platform == "darwin" else int(maxrss) / 1024
    return Measured(float(seconds), peak, float(cpu), stdout)


def podcast_cmd(*args: str) -> list[str]:
    """``python -m podcast ARGS``, as a user would run it."""
    return [sys.executable, "-m", "podcast", *args]


def clean_env(cache: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for CLI runs: no edge endpoint override, the given cache."""
    env = {k: v for k, v in os.environ.items() if k not in ("PODCAST_EDGE_ENDPOINT", "PODCAST_CACHE_DIR")}
    if cache is not None:
        env["PODCAST_CACHE_DIR"] = str(cache)
    return {**env, **extra}


def runs() -> Json:
    """An empty record of repeated runs: seconds, peak MB, CPU seconds."""
    return {"s": [], "mb": [], "cpu": []}


def add(record: Json, m: Measured) -> None:
    """Add one run to a :func:`runs` record."""
    record["s"].append(m.seconds)
    record["mb"].append(m.peak_mb)
    record["cpu"].append(m.cpu_s)


def median(values: Sequence[float] | None) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def median_run(reports: list[Json], seconds: list[float]) -> Json:
    """The report of the run with the median wall time (the lower middle one for an even count)."""
    order = sorted(range(len(seconds)), key=seconds.__getitem__)
    return reports[order[(len(order) - 1) // 2]]


def stage(timings: Json, name: str) -> Json:
    """A stage of a build report's timings (zeros when the build did not run it)."""
    for st in timings["stages"]:
        if st["name"] == name:
            return dict(st)
    return {"name": name, "seconds": 0.0, "cpu_s": 0.0, "child_cpu_s": 0.0, "peak_rss_mb": 0.0,
            "total": 0, "done": 0, "cached": 0}


def expect(condition: bool, message: str) -> None:
    """Stop the benchmark when a case did not do what it is meant to measure."""
    if not condition:
        raise RuntimeError(message)


_STARTED = time.perf_counter()


def say(text: str) -> None:
    """Progress on stderr, with the seconds since the benchmark started."""
    print(f"[{time.perf_counter() - _STARTED:7.1f} s] {text}", file=sys.stderr, flush=True)


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
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    first = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True,
                           check=False).stdout.splitlines()
    versions = []
    for name in ("numpy", "mutagen", "edge-tts", "imageio-ffmpeg", "espeakng-loader", "pydub"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    return {
        "CPU": cpu,
        "Cores": f"{os.cpu_count()} logical, {usable_cpus()} usable by this process",
        "RAM": ram,
        "OS": platform.platform(),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "ffmpeg": (first[0] if first else "?") + f" (imageio-ffmpeg, {Path(exe).name})",
        "Libraries": ", ".join(versions),
        "Source": source_revision(),
    }


def usable_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def source_revision() -> str:
    """The commit measured, and whether ``podcast/`` differs from it (with a digest of the diff)."""
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
