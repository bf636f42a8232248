"""Assembly of long episodes: the pipeline against the ffmpeg floor and a naive pydub loop.

Synthetic issues of 3 clips per minute, each clip 20 seconds of real espeak-ng speech (the sample
issue's own clips, trimmed, joined and cut), 2 clips per segment. The clips are stored in a
cache under the keys the espeak engine would use, so nothing is synthesized:

- **pipeline**: ``podcast build ISSUE --engine espeak --force --json`` with every clip cached and
  the section cache emptied before every run, so every section is encoded; where its time goes
  is the build's own ``timings``;
- **floor**: one ffmpeg encode of a WAV of the same voice track to the same MP3 settings;
- **naive**: :mod:`benchmarks.naive`, the same job done the way a pydub script would.
"""

from __future__ import annotations

import json
import shutil
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    Json,
    Measured,
    add,
    clean_env,
    expect,
    median,
    podcast_cmd,
    run_measured,
    runs,
    say,
)

MINUTES = (10, 30, 60, 90)
QUICK_MINUTES = (3, 10)
CLIP_S = 20
CLIPS_PER_MINUTE = 60 // CLIP_S
CLIPS_PER_SEGMENT = 2
"""Engine requests per segment (a ``[pause 700ms]`` between them); with one clip per segment a
90-minute episode has 270 chapters, checked separately (:func:`one_clip_segments`)."""
GAP_MS = 700
MP3_ARGS = ["-ar", "44100", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"]
SHOW_YAML = """\
# Synthetic show of the benchmarks: the sample show's settings, offline engine.
title: 基准测试周报
language: zh-CN
engine: espeak
voices:
  espeak: {name: cmn, rate: "+0%"}
music: {intro: default, outro: default, volume_db: -6, tail_s: 8}
pauses: {between_ms: 700}
output: {sample_rate: 44100, channels: 2, bitrate: 128k}
loudness: {integrated_lufs: -16, true_peak_db: -1.0}
"""


@dataclass(frozen=True)
class Episode:
    """A synthetic episode prepared for the assembly cases."""

    minutes: int
    clips: int
    segments: int
    issue: Path
    keys_file: Path
    floor_wav: Path


def issue_yaml(minutes: int, pieces: list[int]) -> str:
    """An issue of ``len(pieces)`` segments, segment *i* made of ``pieces[i]`` one-sentence pieces
    separated by a pause (so each piece is one engine request)."""
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


def request_keys(issue: Path) -> list[tuple[str, list[tuple[str, int]]]]:
    """Per segment of *issue* with the espeak engine: its id, and the cache key and sentence count
    of each engine request (the library's own plan)."""
    from podcast.engines import registry
    from podcast.input.project import load
    from podcast.synthesis.run import plan

    project, _ = load(issue, "espeak")
    engine = registry.get("espeak")
    voice = project.show.voice_for(engine, project.script.language)
    return [(p.segment.id, [(part.key, len(part.request.sentences)) for part in p.parts])
            for p in plan(project.script, engine, voice, lexicon=project.lexicon)]


def speech_pool(cache_dir: Path, sample_issue: Path) -> list[Any]:
    """20-second clips of real speech: the sample's clips in episode order, trimmed, joined, cut."""
    import numpy as np

    from podcast.audio.timeline import trim
    from podcast.engines.base import Clip
    from podcast.infra.cache import ClipCache

    cache = ClipCache(cache_dir)
    pieces, rate = [], 0
    for _, parts in request_keys(sample_issue):
        for key, _ in parts:
            clip = cache.get(key)
            expect(clip is not None, f"clip {key} missing from {cache_dir}")
            assert clip is not None
            rate = clip.sample_rate
            pieces.append(np.asarray(trim(clip).samples, dtype=np.int16).reshape(-1))
    speech = np.concatenate(pieces)
    size = CLIP_S * rate
    return [Clip(np.ascontiguousarray(speech[i:i + size]), rate, (0,))
            for i in range(0, speech.shape[0] - size + 1, size)]


def prepare(show: Path, cache_dir: Path, pool: list[Any], minutes: int, per_segment: int,
            name: str) -> Episode:
    """One synthetic issue with every clip in the cache, its floor WAV and its clip keys in order."""
    import numpy as np

    from podcast.engines.base import Clip
    from podcast.infra.cache import ClipCache

    cache = ClipCache(cache_dir)
    clips = minutes * CLIPS_PER_MINUTE
    segments = max(2, -(-clips // per_segment))
    pieces = [per_segment] * (segments - 1)
    pieces.append(clips - sum(pieces))  # the outro takes what is left
    expect(min(pieces) >= 1, f"cannot make {clips} clips into segments of {per_segment}")
    issue = show / f"{name}.yaml"
    issue.write_text(issue_yaml(minutes, pieces), encoding="utf-8")
    plans = request_keys(issue)
    expect(len(plans) == segments, f"{issue}: {len(plans)} segments, expected {segments}")
    keys: list[str] = []
    rate = pool[0].sample_rate
    gap = np.zeros(round(GAP_MS * rate / 1000), dtype=np.int16)
    track = []
    for (seg_id, parts), count in zip(plans, pieces, strict=True):
        expect(len(parts) == count, f"segment {seg_id}: {len(parts)} engine requests, not {count}")
        for key, sentences in parts:
            source = pool[len(keys) % len(pool)]
            marks = tuple(round(j * source.frames / sentences) for j in range(sentences))
            if not cache.has(key):
                cache.put(key, Clip(source.samples, source.sample_rate, marks))
            track += [gap, source.samples] if keys else [source.samples]
            keys.append(key)
    wav = show.parent / f"{name}-floor.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.concatenate(track).astype("<i2").tobytes())
    keys_file = show.parent / f"{name}-keys.json"
    keys_file.write_text(json.dumps({"cache": str(cache_dir), "keys": keys, "gap_ms": GAP_MS}),
                         encoding="utf-8")
    return Episode(minutes, clips, segments, issue, keys_file, wav)


def prepare_all(work: Path, pool: list[Any], minutes: tuple[int, ...]) -> tuple[Path, list[Episode]]:
    """The synthetic show, its issues and one cache holding every clip."""
    show = work / "synthetic"
    show.mkdir(parents=True)
    (show / "show.yaml").write_text(SHOW_YAML, encoding="utf-8")
    cache = work / "cache"
    return cache, [prepare(show, cache, pool, m, CLIPS_PER_SEGMENT, f"m{m:03d}") for m in minutes]


def new_results(episodes: list[Episode]) -> Json:
    """The assembly results before any repetition."""
    return {"lengths": [{"minutes": ep.minutes, "clips": ep.clips, "segments": ep.segments,
                         "pipeline": runs(), "floor": runs(), "naive": runs(), "naive_parts": [],
                         "reports": []} for ep in episodes],
            "one_cpu": None, "one_clip": None}


def pipeline(ep: Episode, cache: Path, work: Path, cpus: int | None = None) -> Measured:
    """``podcast build --force --json`` of *ep* with every clip cached and no encoded section."""
    shutil.rmtree(cache / "sections", ignore_errors=True)
    m = run_measured(podcast_cmd("build", str(ep.issue), "--out", str(work / "out"), "--engine", "espeak",
                                 "--force", "--json"), clean_env(cache), cpus=cpus)
    rep = m.report()
    expect(rep["segments"]["synthesized"] == 0,
           f"{ep.minutes} min: clips were synthesized: {rep['segments']}")
    return m


def repetition(res: Json, episodes: list[Episode], cache: Path, work: Path, ffmpeg: str,
               naive_max: int | None) -> None:
    """One repetition of pipeline, floor and naive at every length."""
    for ep, row in zip(episodes, res["lengths"], strict=True):
        m = pipeline(ep, cache, work)
        add(row["pipeline"], m)
        rep = m.report()
        row["reports"].append({k: rep[k] for k in ("duration_s", "loudness", "timings")})
        row["distinct_sections"] = len(list((cache / "sections").glob("*/*.mp3")))

        floor_mp3 = work / "floor.mp3"
        add(row["floor"], run_measured([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                                        "-i", str(ep.floor_wav), *MP3_ARGS, str(floor_mp3)]))
        floor_mp3.unlink()

        if naive_max is None or ep.minutes <= naive_max:
            naive_mp3 = work / "naive.mp3"
            m = run_measured([sys.executable, "-m", "benchmarks.naive", str(ep.keys_file), str(naive_mp3)],
                             cwd=Path(__file__).resolve().parent.parent)
            add(row["naive"], m)
            parts = m.report()
            row["naive_parts"].append([parts["join_s"], parts["mix_s"], parts["export_s"]])
            naive_mp3.unlink()


def one_cpu(res: Json, ep: Episode, cache: Path, work: Path, repeat: int) -> None:
    """The longest pipeline case again on one CPU (what the second CPU buys)."""
    record: Json = {"minutes": ep.minutes, **runs(), "reports": []}
    for _ in range(repeat):
        m = pipeline(ep, cache, work, cpus=1)
        add(record, m)
        record["reports"].append({"timings": m.report()["timings"]})
    res["one_cpu"] = record


def one_clip_segments(res: Json, work: Path, cache: Path, pool: list[Any], minutes: int) -> None:
    """Whether an episode of *minutes* with one 20-second clip per segment builds at all."""
    ep = prepare(work / "synthetic", cache, pool, minutes, 1, f"flat{minutes:03d}")
    ep.floor_wav.unlink()
    try:
        m = pipeline(ep, cache, work)
    except RuntimeError as exc:
        last = str(exc).strip().splitlines()[-1]
        res["one_clip"] = {"minutes": minutes, "ok": False, "detail": f"{ep.segments} segments: the build "
                           f"fails: `{last}`"}
        return
    res["one_clip"] = {"minutes": minutes, "ok": True,
                       "detail": f"{ep.segments} segments: built in {m.seconds:.1f} s"}


def run(tmp: Path, pool_cache: Path, ffmpeg: str, minutes: tuple[int, ...], repeat: int,
        naive_max: int | None) -> Json:
    """Every assembly case, *repeat* times."""
    from benchmarks.harness import SAMPLE_DIR, SAMPLE_NAME

    say("assembly: preparing the speech pool, issues and cache")
    pool = speech_pool(pool_cache, SAMPLE_DIR / SAMPLE_NAME)
    work = tmp / "assembly"
    cache, episodes = prepare_all(work, pool, minutes)
    res = new_results(episodes)
    for i in range(repeat):
        say(f"assembly: repetition {i + 1}/{repeat} ({', '.join(map(str, minutes))} min)")
        repetition(res, episodes, cache, work, ffmpeg, naive_max)
    longest = max(episodes, key=lambda ep: ep.minutes)
    say(f"assembly: {longest.minutes} min on one CPU")
    one_cpu(res, longest, cache, work, repeat)
    say(f"assembly: {longest.minutes} min with one clip per segment")
    one_clip_segments(res, work, cache, pool, longest.minutes)
    for row in res["lengths"]:
        row["median_s"] = median(row["pipeline"]["s"])
    return res
