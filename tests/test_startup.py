"""Startup stays light: `podcast --help` and `podcast validate` load no audio or TTS library."""

from __future__ import annotations

import pytest

from podcast.testing.startup import loaded
from tests.conftest import ROOT, SAMPLE

HEAVY = ("numpy", "edge_tts", "aiohttp", "mutagen", "imageio_ffmpeg", "feedgen", "lxml",
         "podcast.audio.ffmpeg", "podcast.audio.timeline", "podcast.build")

ENGLISH = ROOT / "tests" / "corpus" / "good" / "bom-crlf" / "issue.yaml"


@pytest.mark.parametrize("args", [["--help"], ["validate", str(SAMPLE)], ["validate", str(ENGLISH)]])
def test_startup_loads_no_audio_or_speech_library(args: list[str]) -> None:
    modules, libespeak = loaded(args, ROOT)
    assert [m for m in HEAVY if m in modules] == []
    assert not libespeak


def test_voices_passed_without_the_library_are_voices_the_library_has() -> None:
    """The offline voice check (data files only) never accepts what espeak itself refuses."""
    from podcast.engines.espeak import _Library, espeak_voice, known_voices

    names, variants = known_voices()
    assert {"cmn", "en-us", "sit/cmn", "gmw/en-us"} <= names and "f3" in variants
    library = _Library.get()
    refused = [name for name in [*sorted(names), "cmn+f3", "en-US+klatt", "SIT/CMN"]
               if not library.set_voice(espeak_voice(name))]
    assert refused == []
