"""Benchmark the producer's loop on the sample issue, through the real CLI, in one run:

- ``podcast preview`` of one segment, cold (empty cache) and cached;
- a cold ``podcast build`` next to an incremental rebuild after editing one entry.

    python scripts/bench_loop.py [--engine espeak]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "seeds" / "ai-weekly"


def timed(*args: str, env: dict[str, str]) -> float:
    """Seconds taken by ``python -m podcast ARGS`` (which must succeed)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "podcast", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="espeak")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        show = Path(tmp) / "ai-weekly"
        shutil.copytree(SAMPLE, show)
        issue = show / "2024-02-3.yaml"
        out = Path(tmp) / "out"
        env = {**os.environ, "PODCAST_CACHE_DIR": str(Path(tmp) / "cache")}
        common = ["--engine", args.engine]
        preview_cold = timed("preview", str(issue), "entry-03", "--out", str(out / "p.wav"), *common, env=env)
        preview_cached = timed("preview", str(issue), "entry-03", "--out", str(out / "p.wav"), *common,
                               env=env)
        shutil.rmtree(Path(tmp) / "cache")
        cold = timed("build", str(issue), "--out", str(out), *common, env=env)
        text = issue.read_text(encoding="utf-8")
        issue.write_text(text.replace("它能给文具分类", "它能熟练地给文具分类", 1), encoding="utf-8")
        incremental = timed("build", str(issue), "--out", str(out), *common, env=env)
        unchanged = timed("build", str(issue), "--out", str(out), *common, env=env)
    print(f"engine: {args.engine}")
    print(f"preview one segment, cold:   {preview_cold:6.2f} s")
    print(f"preview one segment, cached: {preview_cached:6.2f} s")
    print(f"cold build:                  {cold:6.2f} s")
    print(f"rebuild after one edit:      {incremental:6.2f} s  ({incremental / cold:.2f} of cold)")
    print(f"rebuild, nothing changed:    {unchanged:6.2f} s  ({unchanged / cold:.2f} of cold)")


if __name__ == "__main__":
    main()
