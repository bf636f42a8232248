"""The results rendered into ``docs/benchmarks.md`` through the ``report.md.j2`` template.

This module works the figures out (medians, ratios, the stage table); the template lays them out.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

import jinja2

from benchmarks.harness import Json, median, median_run, stage
from benchmarks.sample import CASES, EDIT
from benchmarks.startup import HEAVY
from benchmarks.targets import judge

TEMPLATE = "report.md.j2"
STAGES = [
    ("load", "load the issue, render the script, plan the requests, take the episode lock, check "
             "whether it is up to date"),
    ("synthesize", "synthesize: every clip read from the cache (WAV + checksum)"),
    ("mix", "lay out the timeline and cut it into sections (`audio.timeline.mix`)"),
    ("encode", "loudness + encode (`audio.encode.encode_normalized`)"),
    ("publish", "ID3 tags and chapters, chapters JSON, transcripts, notes, manifest, moved into place"),
]
"""The build's stages (``BuildReport.timings``) in order, with what each does."""


def secs(values: Sequence[float] | None) -> str:
    """``median (min–max)`` seconds, or a dash."""
    if not values:
        return "—"
    med = statistics.median(values)
    return f"{med:.2f}" if len(values) == 1 else f"{med:.2f} ({min(values):.2f}–{max(values):.2f})"


def num(value: float | None, digits: int = 1) -> str:
    """A number with *digits* decimals and thousands separators, or a dash."""
    return "—" if value is None else f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}x"


def indent(level: int, text: str) -> str:
    """A table label under its parent row."""
    return "&nbsp;" * (6 * level - 2) + "↳ " + text if level else f"**{text}**"


def sample_rows(sample: Json) -> list[tuple[str, str, str]]:
    """The sample table: case, seconds, peak MB."""
    rows = [(label, secs(sample["cases"][key]["s"]), num(median(sample["cases"][key]["mb"]), 0))
            for key, label in CASES.items()]
    rows.append(("… of which synthesizing the edited segment (the rebuild's `synthesize` stage: "
                 "worker start, espeak, cache reads and writes)", secs(sample["synthesize_s"]), "—"))
    return rows


def assembly_rows(asm: Json) -> list[list[str]]:
    """The assembly table, one row per length."""
    rows = []
    for row in asm["lengths"]:
        pipe, floor, naive = (median(row[k]["s"]) for k in ("pipeline", "floor", "naive"))
        duration = median([r["duration_s"] for r in row["reports"]]) or 0.0
        minutes, seconds = divmod(round(duration), 60)
        counts = f"{row['clips']} / {row['segments']} / {row.get('distinct_sections', '?')}"
        rows.append([str(row["minutes"]), counts,
                     f"{minutes}:{seconds:02d}", secs(row["pipeline"]["s"]), secs(row["floor"]["s"]),
                     secs(row["naive"]["s"]), _ratio(pipe, floor), _ratio(naive, pipe),
                     " / ".join(num(median(row[k]["cpu"])) for k in ("pipeline", "floor", "naive")),
                     " / ".join(num(median(row[k]["mb"]), 0) for k in ("pipeline", "floor", "naive"))])
    return rows


def assembly_notes(asm: Json) -> list[str]:
    """The naive script's split, its export against the floor, the pipeline's loudness."""
    split, export, loud = [], [], []
    for row in asm["lengths"]:
        m = row["minutes"]
        if row["naive_parts"]:
            j, x, e = (statistics.median(p[i] for p in row["naive_parts"]) for i in range(3))
            split.append(f"{m} min: join {j:.1f} + overlay/gain {x:.1f} + export {e:.1f}")
            floor = median(row["floor"]["s"])
            if floor:
                export.append(f"{m} min {e / floor:.2f}x")
        lufs = median([r["loudness"]["integrated_lufs"] for r in row["reports"]])
        peak = median([r["loudness"]["true_peak_dbtp"] for r in row["reports"]])
        loud.append(f"{m} min {num(lufs)} LUFS / {num(peak)} dBTP")
    notes = []
    if split:
        notes.append("Naive script split (median seconds): " + "; ".join(split) + ".")
        notes.append("The naive export alone against the floor (both one LAME encode of the episode): "
                     + "; ".join(export) + ".")
    notes.append("Pipeline loudness of the encoded files: " + "; ".join(loud) + ".")
    return notes


def stage_table(asm: Json) -> Json:
    """Where the time goes: the stage rows, from the build report of each length's median run."""
    lengths = asm["lengths"]
    timings = [median_run(r["reports"], r["pipeline"]["s"])["timings"] for r in lengths]
    top = timings[-1]
    enc = top["encode"]
    total = sum(st["seconds"] for st in top["stages"]) or 1.0
    rows: list[list[str]] = []

    def row(label: str, values: list[float], cpu: str = "", peak: str = "", of: float = 0.0) -> None:
        share = f"{100 * values[-1] / of:.0f}% of busy" if of else f"{100 * values[-1] / total:.0f}%"
        rows.append([label, *(f"{v:.2f}" for v in values), share, cpu, peak])

    for name, text in STAGES:
        st = [stage(t, name) for t in timings]
        cpu = f"{st[-1]['cpu_s']:.1f} + {st[-1]['child_cpu_s']:.1f}"
        label = text + (f", {enc['workers']} worker thread(s)" if name == "encode" else "")
        row(indent(0, label), [s["seconds"] for s in st], cpu, num(st[-1]["peak_rss_mb"], 0))
        if name == "encode":
            row(indent(1, "in the main thread before and after the workers: section keys, cache lookups, "
                          "the Info frame, writing the MP3"),
                [stage(t, name)["seconds"] - t["encode"]["span_s"] for t in timings])
            row(indent(1, "worker threads, from the first section started to the last finished (wall)"),
                [t["encode"]["span_s"] for t in timings])
            busy = [t["encode"]["busy_s"] for t in timings]
            at = f" at {lengths[-1]['minutes']} min"
            row(indent(2, f"*busy*, summed over the threads: per section (×{enc['encoded']}{at})"), busy,
                of=busy[-1])
            row(indent(3, "*busy* measure the section (render → ffmpeg ebur128)"),
                [t["encode"]["measure_s"] for t in timings], of=busy[-1])
            row(indent(3, f"*busy* encode + measure the encoded frames (render → ffmpeg gain + limiter + "
                          f"LAME → ffmpeg ebur128 true peak) (×{enc['passes']}{at})"),
                [t["encode"]["encode_s"] for t in timings], of=busy[-1])
            row(indent(3, "*busy* the rest: resampling the section's clips, "
                          "storing the section in the cache"),
                [t["encode"]["busy_s"] - t["encode"]["measure_s"] - t["encode"]["encode_s"] for t in timings],
                of=busy[-1])
    sums = [sum(st["seconds"] for st in t["stages"]) for t in timings]
    cpu_all = (f"{sum(s['cpu_s'] for s in top['stages']):.1f} + "
               f"{sum(s['child_cpu_s'] for s in top['stages']):.1f}")
    rows.append(["**sum of the stages**", *(f"{v:.2f}" for v in sums), "100%", cpu_all, ""])
    cli = [median(r["pipeline"]["s"]) for r in lengths]
    rows.append(["CLI build (median, above) minus the sum: interpreter start and imports",
                 *("—" if c is None else f"{c - v:.2f}" for c, v in zip(cli, sums, strict=True)), "", "", ""])
    busy_share = enc["busy_s"] / (enc["span_s"] * enc["workers"]) if enc["span_s"] and enc["workers"] else 0.0
    return {"minutes": [r["minutes"] for r in lengths], "rows": rows, "encode": enc, "busy_share": busy_share,
            "longest": lengths[-1]["minutes"], "sections": enc["sections"]}


def one_cpu(asm: Json) -> list[list[str]] | None:
    """The longest build on every CPU this process may use, and on one."""
    solo = asm.get("one_cpu")
    if not solo or not solo["s"]:
        return None
    longest = asm["lengths"][-1]
    table = []
    for label, record, reports in (("all CPUs (the pipeline above)", longest["pipeline"], longest["reports"]),
                                   ("1 CPU (`sched_setaffinity`)", solo, solo["reports"])):
        t = median_run(reports, record["s"])["timings"]
        table.append([label, secs(record["s"]), f"{stage(t, 'encode')['seconds']:.2f}",
                      num(median(record["cpu"])), str(t["encode"]["workers"]), str(t["encode"]["passes"])])
    return table


def context(results: Json) -> Json:
    """Everything the template shows."""
    ctx: Json = {"r": results, "targets": judge(results), "edit": EDIT, "heavy": HEAVY}
    if results.get("sample"):
        ctx["sample_rows"] = sample_rows(results["sample"])
    asm = results.get("assembly")
    if asm and asm["lengths"]:
        ctx["assembly_rows"] = assembly_rows(asm)
        ctx["assembly_notes"] = assembly_notes(asm)
        ctx["stages"] = stage_table(asm)
        ctx["one_cpu"] = one_cpu(asm)
    return ctx


def render(results: Json) -> str:
    """``docs/benchmarks.md`` for *results*."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=False,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(secs=secs, num=num, median=median)
    return env.get_template(TEMPLATE).render(**context(results))
