"""The targets, judged from the results (so a stored result can be judged again)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.harness import Json, median

FLOOR_RATIO = 1.2
"""90-minute assembly at most this many times the ffmpeg floor."""
PEAK_MB = 600
CACHED_REBUILD_S = 2.0
EDGE_RATIO = 0.3


@dataclass(frozen=True)
class Target:
    """One PASS/FAIL line."""

    text: str
    passed: bool | None
    detail: str

    @property
    def mark(self) -> str:
        """PASS, FAIL or n/a."""
        return "n/a" if self.passed is None else ("PASS" if self.passed else "FAIL")


def _assembly(asm: Json) -> list[Target]:
    rows = sorted(asm["lengths"], key=lambda r: r["minutes"])
    if not rows:
        return []
    out = []
    short, long_ = rows[0], rows[-1]
    minutes = long_["minutes"]
    pipe, floor = median(long_["pipeline"]["s"]), median(long_["floor"]["s"])
    if pipe is not None and floor:
        out.append(Target(f"{minutes}-minute assembly at most {FLOOR_RATIO:g}x the ffmpeg floor",
                          pipe / floor <= FLOOR_RATIO, f"{pipe:.1f} s / {floor:.1f} s = {pipe / floor:.2f}x"))
    peak = median(long_["pipeline"]["mb"])
    if peak is not None:
        out.append(Target(f"{minutes}-minute assembly peak memory at most {PEAK_MB} MB", peak <= PEAK_MB,
                          f"{peak:,.0f} MB (largest process of `podcast build`)"))
    first = median(short["pipeline"]["s"])
    if short is not long_ and pipe is not None and first:
        allowed = 10.5 * (minutes / short["minutes"]) / 9
        scaled = "" if (minutes, short["minutes"]) == (90, 10) else "; the 90/10 target scaled"
        out.append(Target(f"{minutes}-minute time at most {allowed:.2f}x the {short['minutes']}-minute time "
                          f"(linear{scaled})", pipe / first <= allowed,
                          f"{pipe:.1f} s / {first:.1f} s = {pipe / first:.2f}x"))
    flat = asm.get("one_clip")
    if flat:
        out.append(Target(f"a {flat['minutes']}-minute episode of one 20-second clip per segment builds "
                          "(not a speed target: checked because it did not)", flat["ok"], flat["detail"]))
    return out


def _sample(sample: Json) -> list[Target]:
    cases = sample["cases"]
    force = median(cases["force"]["s"])
    out = []
    if force is not None:
        out.append(Target(f"cached rebuild of the sample issue (`--force`, every clip and encoded section "
                          f"cached) under {CACHED_REBUILD_S:g} s", force < CACHED_REBUILD_S,
                          f"{force:.2f} s"))
    inc, synth = median(cases["incremental"]["s"]), median(sample["synthesize_s"])
    if inc is not None and force is not None and synth is not None:
        allowed = 1.5 * force + synth
        edited = median(sample["sections_edited"])
        sections = median(sample["sections"])
        out.append(Target("incremental rebuild (one entry edited, from the unedited build's cache) at "
                          "most 1.5x a cached one plus the one segment's synthesis (the build's "
                          "`synthesize` stage)", inc <= allowed,
                          f"{inc:.2f} s vs 1.5 × {force:.2f} + {synth:.2f} = {allowed:.2f} s; "
                          f"it re-encoded {edited:g} of {sections:g} sections"))
    return out


def judge(results: Json) -> list[Target]:
    """Every target the results allow to judge."""
    out: list[Target] = []
    if results.get("assembly"):
        out += _assembly(results["assembly"])
    if results.get("sample"):
        out += _sample(results["sample"])
    for cmd in results.get("startup") or []:
        found, also = cmd["audio_tts"], [m for m in cmd["heavy"] if m not in cmd["audio_tts"]]
        out.append(Target(f"`podcast {cmd['command']}` imports no audio/TTS library", not found,
                          ("imports " + ", ".join(found) if found else "none imported")
                          + (f" (imports {', '.join(also)}, which load no library)" if also else "")))
    edge = results.get("edge")
    if edge and edge["c1"] and edge["c4"]:
        c1, c4 = median(edge["c1"]), median(edge["c4"])
        assert c1 is not None and c4 is not None
        out.append(Target(f"edge: concurrency 4 takes at most {EDGE_RATIO:g}x the time of concurrency 1",
                          c4 / c1 <= EDGE_RATIO, f"{c4 / c1:.3f}"))
    return out
