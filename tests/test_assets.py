"""The packaged media are what scripts/make_assets.py makes: nothing downloaded, nothing by hand.
A show's own cover and music are checked before any build, with located errors."""

from __future__ import annotations

import io
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from podcast.audio import ffmpeg
from podcast.audio.ffmpeg import audio_problem
from podcast.cli import app
from podcast.input.assets import cover_problem
from podcast.input.show import ASSETS, DEFAULT_COVER, DEFAULT_MUSIC
from tests.conftest import ROOT, SMALL_EN, write


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


# --- a show's own cover and music, checked by `validate` (and so before any build) -----------------

SHOW = """
title: Art Show
description: Pictures and jingles.
author: Someone
email: someone@example.com
{line}
"""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def _bare_png(width: int, height: int, padding: int) -> bytes:
    """A PNG whose structure is whole (chunks, checksums) around pixels that are not there: as
    large in pixels and in bytes as asked, made in no time."""
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"tEXt", b"Comment\0" + bytes(padding))
            + _chunk(b"IDAT", zlib.compress(b"")) + _chunk(b"IEND", b""))


def _image(spec: str) -> bytes:
    """``KIND WIDTH[xHEIGHT] [cut]``: an image made with Pillow (cut to two thirds)."""
    if spec == "bare 8000":
        return _bare_png(8000, 8000, padding=3_000_000)
    kind, size, *cut = spec.split()
    width, _, height = size.partition("x")
    rows, columns = np.indices((int(height or width), int(width)))
    stripes = ((rows // 50 + columns // 70) % 4 * 64).astype(np.uint8)
    pixels = np.stack([stripes, 255 - stripes, stripes // 2], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, kind, **({"quality": 30} if kind == "JPEG" else {}))
    data = buffer.getvalue()
    return data[:len(data) * 2 // 3] if cut else data


def _validate(tmp_path: Path, line: str, files: dict[str, bytes]) -> tuple[int, list[str]]:
    """``podcast validate`` of an issue whose show.yaml has *line* (line 5) and *files* beside
    it: the exit code, and the lines about the cover and the music (from ``show.yaml:``)."""
    folder = tmp_path / "show"
    write(folder / "show.yaml", SHOW.format(line=line))
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    issue = write(folder / "2024-03-04.yaml", SMALL_EN)
    result = CliRunner().invoke(app, ["validate", str(issue)])
    return result.exit_code, [said.removeprefix(f"{folder}/") for said in result.stderr.splitlines()
                              if ": cover: " in said or ": music." in said]


APPLE = "Apple Podcasts needs a square image of 1400 to 3000 pixels"
COVERS: dict[str, tuple[str, str | bytes, str]] = {
    "a text file": ("cover.png", b"not a picture\n", "is not a PNG or JPEG image"),
    "an empty file": ("cover.png", b"", "is an empty file, not an image"),
    "a PNG cut short": ("cover.png", "PNG 1400 cut",
                        "is cut short: a chunk of the PNG image ends past the end of the file"),
    "a JPEG cut short": ("cover.jpg", "JPEG 1400 cut",
                         "is cut short: the JPEG image has no end (its end-of-image marker)"),
    "a JPEG named .png": ("cover.png", "JPEG 1400",
                          "is a JPEG image: name it .jpg (its type in the MP3's tag comes from the name)"),
    "too small": ("cover.png", "PNG 1000", f"is 1000x1000 pixels; {APPLE}"),
    "not square": ("cover.jpg", "JPEG 2000x1500", f"is 2000x1500 pixels; {APPLE}"),
    "8000 pixels, 3 MB": ("cover.png", "bare 8000",
                          f"is 8000x8000 pixels; {APPLE}; is 3.0 MB; a cover goes into every episode's MP3, "
                          "so it may be at most 2 MB (save it as JPEG, or smaller)"),
}


@pytest.mark.parametrize("case", COVERS)
def test_a_cover_that_is_not_a_square_png_or_jpeg_of_the_right_size_is_refused(case: str,
                                                                               tmp_path: Path) -> None:
    name, spec, message = COVERS[case]
    data = spec if isinstance(spec, bytes) else _image(spec)
    expected = f"show.yaml:5:8: cover: {name!r} {message}"
    assert _validate(tmp_path, f"cover: {name}", {name: data}) == (2, [expected])


def test_covers_apple_accepts_pass(tmp_path: Path) -> None:
    assert _validate(tmp_path, "cover: art/cover.jpeg", {"art/cover.jpeg": _image("JPEG 1400")}) == (0, [])
    assert _validate(tmp_path, "cover: cover.png", {"cover.png": _image("PNG 3000")}) == (0, [])
    assert cover_problem(DEFAULT_COVER) is None  # the packaged one (the default), too


def test_music_that_does_not_decode_is_refused_before_the_build(tmp_path: Path) -> None:
    code, lines = _validate(tmp_path, "music: {intro: intro.mp3, outro: outro.wav}",
                            {"intro.mp3": b"this is not audio\n", "outro.wav": b""})
    assert code == 2
    assert lines[0].startswith("show.yaml:5:16: music.intro: 'intro.mp3' is not audio that ffmpeg "
                               "can decode: ")
    assert "Invalid data" in lines[0]
    assert lines[1:] == ["show.yaml:5:34: music.outro: 'outro.wav' is an empty file, not audio"]
    built = CliRunner().invoke(app, ["build", str(tmp_path / "show" / "2024-03-04.yaml"), "--out",
                                     str(tmp_path / "out")])
    assert built.exit_code == 2 and "ffmpeg failed" not in built.stderr
    assert not (tmp_path / "out").exists()


def test_music_that_decodes_passes(tmp_path: Path) -> None:
    assert [audio_problem(path) for path in DEFAULT_MUSIC.values()] == [None, None]  # the packaged
    jingle = DEFAULT_MUSIC["intro"].read_bytes()
    assert _validate(tmp_path, "music: {intro: jingle.bin}", {"jingle.bin": jingle}) == (0, [])
