"""The packaged media are what scripts/make_assets.py makes: nothing downloaded, nothing by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from podcast.audio import ffmpeg
from podcast.input.show import ASSETS
from tests.conftest import ROOT


def test_make_assets_regenerates_the_packaged_media(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_assets.py"), "--out-dir", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    for name in ("intro.mp3", "outro.mp3"):
        shipped = ffmpeg.decode(ASSETS / name, 44100, 2)
        made = ffmpeg.decode(tmp_path / name, 44100, 2)
        assert abs(shipped.shape[0] - made.shape[0]) < 2048
        n = min(shipped.shape[0], made.shape[0])
        # the same music (an ffmpeg/LAME update may change the bytes, not the sound)
        assert np.corrcoef(shipped[:n].ravel(), made[:n].ravel())[0, 1] > 0.99
    shipped_cover = np.asarray(Image.open(ASSETS / "cover.png").convert("RGB"), dtype=np.int16)
    made_cover = np.asarray(Image.open(tmp_path / "cover.png").convert("RGB"), dtype=np.int16)
    assert shipped_cover.shape == made_cover.shape == (3000, 3000, 3)
    assert np.abs(shipped_cover - made_cover).mean() < 1.0
