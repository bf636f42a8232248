"""What a show's own cover must be, checked when show.yaml is read, before any audio is made.

The cover goes into the ID3 tag of every episode's MP3 and into the feed. Apple Podcasts
takes JPEG or PNG artwork with the matching extension (``.jpg``, ``.png``: the MP3's tag
names its type by the extension), square, 1400 to 3000 pixels a side. Its bytes are copied
into every MP3, so it is also kept to at most 2 MB: room for a detailed 3000-pixel PNG (the
packaged one is 1.2 MB), while a 10-minute episode at 128 kbit/s is 9.6 MB. (An 8000x8000,
97 MB cover once made a 44-second episode of 97.8 MB.)

The image is read here by hand rather than with an image library: Pillow is a development
dependency only, and a runtime one (a large wheel) for two header formats would be out of
proportion. The PNG chunks are walked and their CRCs checked; the JPEG segments are walked
to the frame header and the end-of-image marker after the scan. So a file cut short or damaged
in its structure is refused too; the compressed pixels themselves are not decoded. Music
files are checked by decoding them (:func:`podcast.input.project.check`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

COVER_MIN_PX = 1400
COVER_MAX_PX = 3000
COVER_MAX_BYTES = 2_000_000
READ_AT_MOST = 32 << 20
"""Bytes of a cover read to find its type and size in pixels; a larger one is refused by
its size anyway."""
EXTENSIONS = {"PNG": (".png",), "JPEG": (".jpg", ".jpeg")}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_START = b"\xff\xd8\xff"
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
"""Start-of-frame markers (baseline, progressive, lossless, ...): they give the size."""
_JPEG_BARE = {0x01, *range(0xD0, 0xD8)}
"""Markers without a length (TEM, restart markers)."""


class ImageError(ValueError):
    """The bytes are not a whole PNG or JPEG image; the message says how (after the name)."""


class _CutShort(ImageError):
    """The bytes end before the image does."""


@dataclass(frozen=True)
class ImageInfo:
    """What the header of an image says."""

    kind: str
    """``PNG`` or ``JPEG``."""
    width: int
    height: int


def read_image(data: bytes, *, complete: bool = True) -> ImageInfo:
    """The type and size of the PNG or JPEG image in *data*. With *complete* (*data* is the
    whole file), also checks that the image is whole: raises :class:`ImageError` if not."""
    if data.startswith(_PNG_SIGNATURE):
        return _png(data, complete)
    if data.startswith(_JPEG_START):
        return _jpeg(data, complete)
    raise ImageError("is not a PNG or JPEG image")


def _png(data: bytes, complete: bool) -> ImageInfo:
    pos, info = len(_PNG_SIGNATURE), None
    while True:
        if pos + 12 > len(data):
            raise _CutShort("is cut short: the PNG image ends before its last chunk")
        length, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        end = pos + 12 + length
        if info is None and (kind != b"IHDR" or length != 13):
            raise ImageError("is a damaged PNG image: it does not start with its header")
        if end > len(data):
            raise _CutShort("is cut short: a chunk of the PNG image ends past the end of the file")
        if zlib.crc32(data[pos + 4:end - 4]) != int.from_bytes(data[end - 4:end], "big"):
            raise ImageError(f"is a damaged PNG image: the checksum of its {kind.decode('latin-1')!r} "
                             "chunk does not match")
        if info is None:
            info = ImageInfo("PNG", int.from_bytes(data[pos + 8:pos + 12], "big"),
                             int.from_bytes(data[pos + 12:pos + 16], "big"))
            if not complete:
                return info
        if kind == b"IEND":
            return info
        pos = end


def _jpeg(data: bytes, complete: bool) -> ImageInfo:
    pos, info = 2, None
    while True:
        if pos + 4 > len(data):
            raise _CutShort("is cut short: the JPEG image ends before its picture data")
        if data[pos] != 0xFF:
            raise ImageError(f"is a damaged JPEG image: no marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_BARE:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker == 0xD9 or length < 2:
            raise ImageError("is a damaged JPEG image: it ends before its picture data")
        if marker in _JPEG_FRAMES and info is None:
            if pos + 9 > len(data):
                raise _CutShort("is cut short: the JPEG image ends inside its header")
            info = ImageInfo("JPEG", int.from_bytes(data[pos + 7:pos + 9], "big"),
                             int.from_bytes(data[pos + 5:pos + 7], "big"))
            if not complete:
                return info
        if marker == 0xDA:  # start of scan: the coded picture follows, to the end-of-image marker
            if info is None:
                raise ImageError("is a damaged JPEG image: its picture data comes before its header")
            if data.find(b"\xff\xd9", pos + 2 + length) < 0:
                raise _CutShort("is cut short: the JPEG image has no end (its end-of-image marker)")
            return info
        pos += 2 + length


def cover_problem(path: Path) -> str | None:
    """What is wrong with *path* as a cover (to follow its name in a message), or None."""
    size = path.stat().st_size
    if size == 0:
        return "is an empty file, not an image"
    with path.open("rb") as file:
        data = file.read(READ_AT_MOST)
    whole = size <= COVER_MAX_BYTES and len(data) == size
    try:
        info: ImageInfo | None = read_image(data, complete=whole)
    except _CutShort as exc:
        if whole:
            return str(exc)
        info = None  # larger than any cover may be: its size is the problem to report
    except ImageError as exc:
        return str(exc)
    problems = []
    if info is not None and path.suffix.lower() not in EXTENSIONS[info.kind]:
        problems.append(f"is a {info.kind} image: name it {EXTENSIONS[info.kind][0]} "
                        f"(its type in the MP3's tag comes from the name)")
    if info is not None and (info.width != info.height or not COVER_MIN_PX <= info.width <= COVER_MAX_PX):
        problems.append(f"is {info.width}x{info.height} pixels; Apple Podcasts needs a square image "
                        f"of {COVER_MIN_PX} to {COVER_MAX_PX} pixels")
    if size > COVER_MAX_BYTES:
        problems.append(f"is {size / 1e6:.1f} MB; a cover goes into every episode's MP3, so it may be "
                        f"at most {COVER_MAX_BYTES / 1e6:g} MB (save it as JPEG, or smaller)")
    return "; ".join(problems) or None
