"""``python -m benchmarks``: run the cases, store the results as JSON, render docs/benchmarks.md."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import assembly, edge, sample, startup
from benchmarks.harness import ROOT, Json, load_average, machine_info, say, source_revision
from benchmarks.render import render

DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
SECTIONS = ("startup", "sample", "assembly", "edge")


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--repeat", type=int, default=None, help="runs per case (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run: 1 repeat, {'/'.join(map(str, assembly.QUICK_MINUTES))}-minute "
                             "episodes, 8 edge segments; written to a temporary folder unless --output "
                             "is given")
    parser.add_argument("--minutes", type=lambda v: tuple(int(x) for x in v.split(",")), default=None,
                        help=f"episode lengths (default {','.join(map(str, assembly.MINUTES))})")
    parser.add_argument("--naive-max-minutes", type=int, default=None,
                        help="run the naive pydub loop only up to this length")
    parser.add_argument("--edge-segments", type=int, default=None, help="edge workload size (default 30)")
    parser.add_argument("--latency", type=float, default=0.4, help="fake edge service latency (s)")
    parser.add_argument("--skip", default="", help=f"comma-separated cases to skip: {','.join(SECTIONS)} "
                        "(assembly needs sample)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"the report (default {DEFAULT_OUTPUT.relative_to(ROOT)}); the results go "
                             "beside it with the suffix .json")
    parser.add_argument("--render", type=Path, default=None, metavar="RESULTS_JSON",
                        help="only render stored results (to --output, default beside them as .md)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> Json:
    """Every case not skipped; the results."""
    repeat = args.repeat or (1 if args.quick else 3)
    minutes = args.minutes or (assembly.QUICK_MINUTES if args.quick else assembly.MINUTES)
    skip = set(filter(None, args.skip.split(",")))
    started, clock, load_start = dt.datetime.now(dt.UTC), time.perf_counter(), load_average()
    results: Json = {"machine": machine_info(), "sample": None, "assembly": None, "edge": None,
                     "startup": None}
    import imageio_ffmpeg

    if "startup" not in skip:
        say("startup")
        results["startup"] = startup.run(repeat)
    with tempfile.TemporaryDirectory(prefix="podcast-bench-") as name:
        tmp = Path(name)
        pool_cache = tmp / "pool-cache"
        if "sample" not in skip:
            results["sample"] = sample.new_results()
            for i in range(repeat):
                say(f"sample issue: repetition {i + 1}/{repeat}")
                folder = tmp / f"sample-{i}"
                folder.mkdir()
                sample.run(results["sample"], folder, pool_cache)
                shutil.rmtree(folder)
        if "assembly" not in skip and pool_cache.exists():
            results["assembly"] = assembly.run(tmp, pool_cache, imageio_ffmpeg.get_ffmpeg_exe(), minutes,
                                               repeat, args.naive_max_minutes)
        if "edge" not in skip:
            say("edge engine against the fake service")
            results["edge"] = edge.run(tmp, repeat, args.edge_segments or (8 if args.quick else 30),
                                       args.latency)
    end_source = source_revision()
    if end_source != results["machine"]["Source"]:
        results["machine"]["Source"] = (f"**changed during the run**: {results['machine']['Source']} at the "
                                        f"start, {end_source} at the end; the figures mix both")
    results["run"] = {"command": " ".join(["python -m benchmarks", *sys.argv[1:]]), "quick": args.quick,
                      "repeat": repeat, "started": f"{started:%Y-%m-%d %H:%M}",
                      "elapsed_s": time.perf_counter() - clock, "load_start": load_start,
                      "load_end": load_average()}
    return results


def main(argv: list[str]) -> None:
    """Run (or only render) and write the results and the report."""
    args = parse(argv)
    if args.render:
        results = json.loads(args.render.read_text(encoding="utf-8"))
        output = args.output or args.render.with_suffix(".md")
    else:
        results = run(args)
        quick = Path(tempfile.gettempdir()) / "benchmarks-quick.md"
        output = args.output or (quick if args.quick else DEFAULT_OUTPUT)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.with_suffix(".json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
    report = render(results)
    output.write_text(report, encoding="utf-8")
    say(f"wrote {output}" + ("" if args.render else f" and {output.with_suffix('.json')}"))


if __name__ == "__main__":
    main(sys.argv[1:])
