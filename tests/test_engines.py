"""The engine contract: plugins found through entry points with their own options, request limits,
fallback for engines without a probe of their own, capabilities."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from podcast.build import BuildOptions, build
from podcast.engines import registry
from podcast.engines.base import Capabilities, Clip, Engine, Request, RequestLimit
from podcast.engines.espeak import EspeakEngine
from podcast.engines.options import Option
from podcast.errors import EngineError, EngineUnavailable
from podcast.input.project import check, load
from podcast.speech.normalize import Chunk, chunks, speak
from podcast.speech.split import fit
from tests.conftest import decode, run_cli, write

TONE_ENGINE = '''
"""A third-party engine: a tone per sentence, at the pitch the show's option asks for."""

from typing import Any

import numpy as np

from podcast.engines.base import Capabilities, Clip, LocalEngine, Request, VoiceInfo
from podcast.engines.options import Option

RATE = 16000


class ToneEngine(LocalEngine):
    name = "tone"
    options = (Option("tone_hz", int, 440, "pitch of the tone", minimum=100, maximum=2000),
               Option("wave", str, "sine", "shape of the tone", choices=("sine",)))
    capabilities = Capabilities(sentence_marks=True, prosody=frozenset({"rate"}))

    def __init__(self, **options: Any) -> None:
        self.tone_hz = self.configure(options).integer("tone_hz")

    def version(self) -> str:
        return f"tone 0.1 at {self.tone_hz} Hz"

    def default_voice(self, language: str) -> str:
        return "sine"

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("sine", "und")]

    def synthesize_sync(self, request: Request) -> Clip:
        pieces, marks, at = [], [], 0
        for sentence in request.sentences:
            frames = round(RATE * (0.2 + 0.3 * len(sentence.split())))
            t = np.arange(frames) / RATE
            pieces.append((0.4 * 32767 * np.sin(2 * np.pi * self.tone_hz * t)).astype(np.int16))
            marks.append(at)
            at += frames
        return Clip(np.concatenate(pieces), RATE, tuple(marks))
'''

SHOW = """
title: Tone Show
language: en-US
engine: tone
fallback: espeak
music: {{intro: none, outro: none}}
tone:
  {option}
"""

ISSUE = """
title: Tone Weekly 1
date: 2024-03-04
entries:
  - title: First story
    summary: A lab released a model that writes tidy code. It is small and fast.
    url: https://example.com/1
  - title: Second story
    summary: Another team shared a dataset of spoken questions.
    url: https://example.com/2
"""


@pytest.fixture()
def plugin_site(tmp_path: Path) -> dict[str, str]:
    """A folder that, on PYTHONPATH, is an installed distribution offering engine ``tone``."""
    site = tmp_path / "site"
    write(site / "tone_engine.py", TONE_ENGINE)
    info = site / "podcast_tone-0.1.dist-info"
    write(info / "METADATA", "Metadata-Version: 2.1\nName: podcast-tone\nVersion: 0.1\n")
    write(info / "entry_points.txt", "[podcast.engines]\ntone = tone_engine:ToneEngine\n")
    return {"PYTHONPATH": str(site)}


def _show(folder: Path, option: str) -> Path:
    write(folder / "show.yaml", SHOW.format(option=option))
    return write(folder / "2024-03-04.yaml", ISSUE)


def _peak_hz(path: Path) -> float:
    samples = decode(path, 16000)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / 16000)[int(np.argmax(spectrum))])


def test_plugin_engine_from_an_entry_point_builds_with_its_own_option(
        tmp_path: Path, plugin_site: dict[str, str]) -> None:
    issue = _show(tmp_path / "show", "tone_hz: 660")
    result = run_cli("build", str(issue), "--out", str(tmp_path / "out"), "--json", env=plugin_site)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["engine"], report["fallback_reason"]) == ("tone", None)
    assert report["segments"]["synthesized"] == 4
    assert abs(_peak_hz(Path(report["mp3"])) - 660) < 3  # the option reached the engine
    vtt = (tmp_path / "out" / "2024-03-04.vtt").read_text(encoding="utf-8")
    assert "It is small and fast." in vtt


@pytest.mark.parametrize(("option", "message"), [
    ("tone_hz: 5", "7:12: tone.tone_hz: must be between 100 and 2000, got 5"),
    ("tone_hz: high", "7:12: tone.tone_hz: must be a whole number, not text"),
    ("wave: square", "7:9: tone.wave: must be one of sine, got 'square'"),
    ("tone_hx: 600", "7:3: tone.tone_hx: unknown field (did you mean 'tone_hz'?)"),
    ("endpoint: ws://localhost:1/x", "7:3: tone.endpoint: unknown field"),
])
def test_a_wrong_plugin_option_is_a_located_error(tmp_path: Path, plugin_site: dict[str, str], option: str,
                                                  message: str) -> None:
    issue = _show(tmp_path / "show", option)
    result = run_cli("build", str(issue), "--out", str(tmp_path / "out"), env=plugin_site)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"{issue.parent / 'show.yaml'}:{message}"


def test_engine_sections_are_checked_against_that_engines_own_options(tmp_path: Path) -> None:
    folder = tmp_path / "show"
    write(folder / "show.yaml", """
        engine: espeak
        espeak: {endpoint: "ws://127.0.0.1:1/x"}
        edge: {receive_timeout_s: fast, probe_timeout_s: 2}
        """)
    issue = write(folder / "2024-03-04.yaml", ISSUE)
    _, problems = check(issue)
    assert [f"{p.line}:{p.column}: {p.field}: {p.message}" for p in problems if p.severity == "error"] == [
        "2:10: espeak.endpoint: unknown field",
        "3:27: edge.receive_timeout_s: must be a number, not text",
    ]


def test_a_plugin_honouring_fewer_prosody_settings_gets_a_warning(
        tmp_path: Path, plugin_site: dict[str, str]) -> None:
    issue = _show(tmp_path / "show", "tone_hz: 660")
    with (tmp_path / "show" / "show.yaml").open("a", encoding="utf-8") as f:
        f.write('voices:\n  tone: {name: sine, rate: "+5%", pitch: "+2Hz"}\n')
    result = run_cli("validate", str(issue), env=plugin_site)
    assert result.returncode == 0, result.stderr
    assert re.search(r"show.yaml:\d+:\d+: voices.tone.pitch: warning: the tone engine ignores pitch",
                     result.stderr), result.stderr
    assert "voices.tone.rate" not in result.stderr


def test_an_entry_point_that_is_not_an_engine_is_unavailable(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    write(site / "not_engine.py", "class Thing:\n    pass\n")
    write(site / "thing-0.1.dist-info" / "METADATA", "Metadata-Version: 2.1\nName: thing\nVersion: 0.1\n")
    write(site / "thing-0.1.dist-info" / "entry_points.txt", "[podcast.engines]\nthing = not_engine:Thing\n")
    monkeypatch.syspath_prepend(str(site))
    with pytest.raises(EngineUnavailable, match=r"'thing' \(not_engine:Thing\) is not a subclass"):
        registry.get("thing")
    sys.modules.pop("not_engine", None)


# -- engines registered at run time -----------------------------------------------------------

class Quiet(Engine):
    """An engine with only the required members: no probe, no options, no capabilities."""

    name = "quiet"

    def version(self) -> str:
        return "quiet 1"

    def default_voice(self, language: str) -> str:
        return "en-us"

    def voices(self) -> list[Any]:
        return []

    async def synthesize(self, request: Request) -> Clip:
        return EspeakEngine().synthesize_sync(request)


class Away(Quiet):
    """An engine whose probe says it cannot be used now."""

    name = "away"

    def probe(self) -> str | None:
        return "the service is on holiday"


class Unmarked(Quiet):
    """An engine that promises sentence timings and gives none."""

    name = "unmarked"
    capabilities = Capabilities(sentence_marks=True)

    async def synthesize(self, request: Request) -> Clip:
        clip = await super().synthesize(request)
        return Clip(clip.samples, clip.sample_rate)


class Short(EspeakEngine):
    """espeak with a small request limit, in this process so that its requests can be counted."""

    name = "short"
    request_limit = RequestLimit(120)
    runs_locally = False
    requests: ClassVar[list[tuple[str, ...]]] = []

    def synthesize_sync(self, request: Request) -> Clip:
        Short.requests.append(request.sentences)
        return super().synthesize_sync(request)


@pytest.fixture()
def registered() -> Iterator[None]:
    for engine in (Quiet, Away, Unmarked, Short):
        registry.register(engine.name, engine)
    Short.requests.clear()
    yield
    for engine in (Quiet, Away, Unmarked, Short):
        registry.unregister(engine.name)


def _folder_show(tmp_path: Path, engine: str, issue: str = ISSUE) -> Path:
    folder = tmp_path / "show"
    write(folder / "show.yaml", f"language: en-US\nengine: {engine}\nfallback: espeak\n"
          "music: {intro: none, outro: none}\n")
    return write(folder / "2024-03-04.yaml", issue)


def test_an_engine_without_a_probe_of_its_own_is_used_with_a_fallback_named(
        tmp_path: Path, registered: None) -> None:
    report = build(_folder_show(tmp_path, "quiet"), BuildOptions(out_dir=tmp_path / "out"))
    assert (report.engine, report.fallback_reason) == ("quiet", None)


def test_an_engine_whose_probe_says_no_falls_back(tmp_path: Path, registered: None) -> None:
    report = build(_folder_show(tmp_path, "away"), BuildOptions(out_dir=tmp_path / "out"))
    assert (report.engine, report.fallback_reason) == ("espeak", "the service is on holiday")


def test_an_engine_that_promises_sentence_timings_must_give_them(tmp_path: Path, registered: None) -> None:
    with pytest.raises(EngineError, match=r"the engine gave 0 sentence timings for \d+ sentences"):
        build(_folder_show(tmp_path, "unmarked"), BuildOptions(out_dir=tmp_path / "out", engine="unmarked"))
    # without --engine, the show's fallback voices the episode instead
    report = build(_folder_show(tmp_path, "unmarked"), BuildOptions(out_dir=tmp_path / "out"))
    assert report.engine == "espeak" and "sentence timings" in (report.fallback_reason or "")


LONG = """
title: Long Weekly 1
date: 2024-03-04
entries:
  - title: The long one
    summary: >-
      {summary}
"""
SENTENCES = [
    "The first team trained a small model on public code.",
    "It answers questions about programs in plain words.",
    "A second group measured how often it was right.",
    "They found it right in most of the simple cases.",
    "Harder questions still confuse it now and then.",
    "The authors share the data and the weights.",
    "Anyone can run it on a laptop without a network.",
    "Next month they plan a larger version of it.",
]


def test_long_text_is_split_below_the_request_limit_at_sentence_ends(tmp_path: Path,
                                                                     registered: None) -> None:
    issue = _folder_show(tmp_path, "short", LONG.format(summary=" ".join(SENTENCES)))
    report = build(issue, BuildOptions(out_dir=tmp_path / "out"))
    assert report.engine == "short"
    project, _ = load(issue)
    segment = project.script.find("entry-01")
    assert segment is not None and len(segment.text) > 2 * 120
    spoken = [s for c in chunks(segment.text, "en-US") for s in c.spoken]
    entry = [r for r in Short.requests if set(r) & set(spoken)]
    assert len(entry) >= 4  # several requests for the one entry
    assert all(Short.request_limit and Short.request_limit.fits(r) for r in Short.requests)
    assert [s for r in entry for s in r] == spoken  # whole sentences, in order, each once
    vtt = re.sub(r"\s+", "", (tmp_path / "out" / "2024-03-04.vtt").read_text(encoding="utf-8"))
    positions = [vtt.find(re.sub(r"\s+", "", s)) for s in SENTENCES]
    assert -1 not in positions and positions == sorted(positions)


def test_an_over_long_sentence_is_cut_at_clauses_then_spaces() -> None:
    sentence = ("When the lab opened its doors, hundreds of people came to see its 1,000 robots, "
                "the printers and the small garden on the roof that grows tomatoes all year round.")
    say = lambda text: speak(text, "en-US")  # noqa: E731
    chunk = chunks(sentence + " Short one.", "en-US")[0]
    pieces = fit(Chunk(chunk.written, chunk.spoken, 500), RequestLimit(60), say)
    written = [w for c in pieces for w in c.written]
    assert written[:2] == ["When the lab opened its doors,",
                           "hundreds of people came to see its 1,000 robots,"]
    assert all(len(w) <= 60 for w in written) and len(written) > 3
    assert " ".join(written) == sentence + " Short one."
    assert [c.pause_after_ms for c in pieces] == [0] * (len(pieces) - 1) + [500]
    assert all(RequestLimit(60).fits(c.spoken) for c in pieces)


@pytest.mark.parametrize("text", ["这是一个很长的句子，" * 6 + "最后结束。",  # cut at the commas
                                  "这是一个没有标点的很长的句子" * 6 + "。"])  # cut anywhere
def test_chinese_is_measured_in_bytes_when_the_limit_says_so(text: str) -> None:
    chunk = chunks(text, "zh-CN")[0]
    limit = RequestLimit(60, "bytes")
    pieces = fit(chunk, limit, lambda t: speak(t, "zh-CN"))
    assert len(pieces) > 3
    assert all(limit.fits(c.spoken) for c in pieces)
    assert "".join(w for c in pieces for w in c.written) == text


def test_text_within_the_limit_is_left_as_it_was() -> None:
    chunk = chunks(" ".join(SENTENCES), "en-US")[0]
    assert fit(chunk, RequestLimit(10_000), lambda t: speak(t, "en-US")) == [chunk]
    assert fit(chunk, None, lambda t: speak(t, "en-US")) == [chunk]


def test_option_declarations_check_values_and_fill_defaults() -> None:
    engine = EspeakEngine()
    with pytest.raises(ValueError, match="espeak: unknown option 'endpoint'"):
        engine.configure({"endpoint": "ws://x"})
    tone = Option("tone_hz", int, 440, "pitch", minimum=100, maximum=2000)
    assert tone.problem(True) == "must be a whole number, not true/false"
    assert Option("t", float, 1.0, "seconds").canonical(2) == 2.0
    assert Capabilities().prosody == {"rate", "pitch", "volume"}
