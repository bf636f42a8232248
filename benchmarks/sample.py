"""The sample issue through the CLI: cold, cached, edited, up to date, preview.

Each repetition copies the show folder to a temporary directory and runs ``podcast build
--engine espeak --json`` (and ``podcast preview``) with an empty cache folder, in the order of
:data:`CASES`. The build's own timings give the synthesis of the edited segment and the sections
each build encoded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import (
    SAMPLE_DIR,
    SAMPLE_NAME,
    Json,
    add,
    clean_env,
    expect,
    podcast_cmd,
    run_measured,
    runs,
    stage,
)

EDIT = ("它能给文具分类", "它能熟练地给文具分类")
"""The one-entry edit for the incremental rebuild."""
SECTIONS = "sections"
"""The folder of encoded sections under a cache folder."""

CASES = {
    "cold": "cold build (empty cache)",
    "force": "cached rebuild, `--force` (every clip and every encoded section cached)",
    "force_nosections": "rebuild with every clip cached but no encoded sections (`--force`, sections "
                        "cache emptied)",
    "noop": "\"up to date\" rebuild (nothing changed)",
    "incremental": "rebuild after editing one entry",
    "preview_cold": "`podcast preview` of the edited segment, empty cache",
    "preview_cached": "`podcast preview` of the edited segment, cached",
}


def new_results() -> Json:
    """The sample's results before any repetition."""
    return {"cases": {key: runs() for key in CASES}, "synthesize_s": [], "sections": [],
            "sections_edited": [], "segment": "", "segment_s": 0.0, "segments": 0, "duration_s": 0.0}


def segment_texts(issue: Path) -> list[dict[str, str]]:
    """``podcast script --format json``: every segment's id and spoken text."""
    done = subprocess.run([sys.executable, "-m", "podcast", "script", "--format", "json", "--engine",
                           "espeak", str(issue)], capture_output=True, text=True, check=True,
                          env=clean_env())
    segments: list[dict[str, str]] = json.loads(done.stdout)
    return segments


def run(results: Json, tmp: Path, keep_cache: Path | None) -> None:
    """One repetition of the sample's cases in *tmp*; the first cold build's cache is copied to
    *keep_cache* (the speech of the synthetic episodes)."""
    show = tmp / "ai-weekly"
    shutil.copytree(SAMPLE_DIR, show)
    issue = show / SAMPLE_NAME
    out, cache = tmp / "out", tmp / "cache"
    env = clean_env(cache)
    build = podcast_cmd("build", str(issue), "--out", str(out), "--engine", "espeak", "--json")
    cases = results["cases"]

    m = run_measured(build, env)
    rep = m.report()
    expect(rep["segments"]["synthesized"] == rep["segments"]["total"] and not rep["skipped"],
           f"cold build did not synthesize everything: {rep['segments']}")
    results["duration_s"], results["segments"] = rep["duration_s"], rep["segments"]["total"]
    results["sections"].append(rep["timings"]["encode"]["sections"])
    add(cases["cold"], m)
    if keep_cache is not None and not keep_cache.exists():
        shutil.copytree(cache, keep_cache)

    m = run_measured([*build, "--force"], env)
    enc = m.report()["timings"]["encode"]
    expect(enc["encoded"] == 0, f"the cached rebuild encoded {enc['encoded']} sections")
    add(cases["force"], m)

    shutil.rmtree(cache / SECTIONS, ignore_errors=True)  # the clips stay: what assembling costs
    m = run_measured([*build, "--force"], env)
    enc = m.report()["timings"]["encode"]
    expect(enc["encoded"] == enc["sections"], f"the rebuild without sections encoded {enc['encoded']}")
    add(cases["force_nosections"], m)

    m = run_measured(build, env)
    expect(m.report()["skipped"], "the unchanged rebuild was not skipped as up to date")
    add(cases["noop"], m)

    before = segment_texts(issue)
    text = issue.read_text(encoding="utf-8")
    expect(EDIT[0] in text, f"the sample issue no longer contains {EDIT[0]!r}; update EDIT in {__file__}")
    issue.write_text(text.replace(EDIT[0], EDIT[1], 1), encoding="utf-8")
    changed = [i for i, (a, b) in enumerate(zip(before, segment_texts(issue), strict=True)) if a != b]
    expect(len(changed) == 1, f"the edit should change exactly one segment, changed: {changed}")
    segment = before[changed[0]]["id"]

    m = run_measured(build, env)
    rep = m.report()
    expect(rep["segments"]["synthesized"] == 1 and not rep["skipped"],
           f"incremental rebuild should synthesize one segment: {rep['segments']}")
    add(cases["incremental"], m)
    results["synthesize_s"].append(stage(rep["timings"], "synthesize")["seconds"])
    results["sections_edited"].append(rep["timings"]["encode"]["encoded"])
    chapter = rep["chapters"][changed[0]]
    results["segment"], results["segment_s"] = segment, chapter["end_s"] - chapter["start_s"]

    preview = podcast_cmd("preview", str(issue), segment, "--out", str(tmp / "preview.wav"),
                          "--engine", "espeak")
    add(cases["preview_cached"], run_measured(preview, env))
    add(cases["preview_cold"], run_measured(preview, clean_env(tmp / "preview-cache")))
