"""Shared fixtures: real engines, real ffmpeg, temporary caches and issue files."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from podcast.audio import ffmpeg
from podcast.build import BuildOptions, BuildReport, build
from podcast.engines import registry
from podcast.engines.base import Clip, Engine, Request, VoiceInfo
from podcast.engines.espeak import EspeakEngine

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "seeds" / "ai-weekly" / "2024-02-3.yaml"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own clip cache unless it passes one explicitly."""
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("PODCAST_EDGE_ENDPOINT", raising=False)


def write(path: Path, text: str) -> Path:
    """Write dedented *text* to *path* (creating folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


SMALL_EN = """
title: Small Talk Weekly 7
date: 2024-03-04
language: en-US
entries:
  - title: First story
    summary: A lab released a model that writes tidy code. It is small and fast.
    url: https://example.com/one
  - title: Second story
    summary: Another team shared a dataset of spoken questions.
"""


@pytest.fixture()
def small_issue(tmp_path: Path) -> Path:
    """A two-entry English issue with no show config beside it."""
    return write(tmp_path / "show" / "2024-03-04.yaml", SMALL_EN)


@dataclass
class CountingEngine(Engine):
    """The real espeak engine, counting how often it is asked to speak."""

    name: str = "counting"
    calls: list[tuple[str, ...]] = field(default_factory=list)
    fail_on: str | None = None

    def __post_init__(self) -> None:
        self._inner = EspeakEngine()

    def version(self) -> str:
        return "counting/" + self._inner.version()

    def default_voice(self, language: str) -> str:
        return self._inner.default_voice(language)

    def check_voice(self, voice: str) -> str | None:
        return self._inner.check_voice(voice)

    def voices(self) -> list[VoiceInfo]:
        return self._inner.voices()

    async def synthesize(self, request: Request) -> Clip:
        self.calls.append(request.sentences)
        if self.fail_on and any(self.fail_on in s for s in request.sentences):
            from podcast.errors import EngineError

            raise EngineError(f"refusing to say {self.fail_on!r}")
        await asyncio.sleep(0)
        return self._inner.synthesize_sync(request)


@pytest.fixture()
def counting() -> Iterator[CountingEngine]:
    """A registered ``counting`` engine (espeak underneath)."""
    engine = CountingEngine()
    registry.register("counting", lambda **_: engine)
    yield engine
    registry.unregister("counting")


@pytest.fixture(scope="session")
def sample_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cache folder :func:`sample_build` fills."""
    return tmp_path_factory.mktemp("sample-cache")


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory, sample_cache: Path) -> BuildReport:
    """The sample issue built once with espeak, for tests that only read its outputs."""
    out = tmp_path_factory.mktemp("sample-out")
    return build(SAMPLE, BuildOptions(out_dir=out, engine="espeak", cache_dir=sample_cache))


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m podcast ARGS`` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "podcast", *args], cwd=cwd or ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def decode(path: Path, rate: int = 44100) -> np.ndarray:
    """Decode an audio file to mono float32 the way a player would."""
    return ffmpeg.decode(path, rate, 1)[:, 0]
