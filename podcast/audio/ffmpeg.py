"""Everything that touches ffmpeg: decode, resample, measure loudness, encode once.

Audio between stages is float32 numpy arrays shaped (frames, channels) with an explicit
sample rate. The ffmpeg binary comes from the ``imageio-ffmpeg`` wheel (``PODCAST_FFMPEG``
overrides it), so ``pip install`` is all a machine needs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import threading
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from podcast.errors import AudioError, UsageError

Audio = npt.NDArray[np.float32]
_BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact"]


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary."""
    env = os.environ.get("PODCAST_FFMPEG")
    if env:
        if not (Path(env).is_file() and os.access(env, os.X_OK)):
            raise UsageError(f"PODCAST_FFMPEG must be the path of an ffmpeg program, not {env!r} "
                             "(unset it to use the one that comes with imageio-ffmpeg)")
        return env
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - hard dependency
        raise AudioError("ffmpeg not found: install imageio-ffmpeg or set PODCAST_FFMPEG") from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg(args: list[str], data: bytes | None = None) -> tuple[bytes, str]:
    """Run ffmpeg with *args*, feeding *data* on stdin; returns (stdout, stderr)."""
    out, err, _ = ffmpeg_stream(args, [data] if data else [])
    return out, err


def ffmpeg_stream(args: list[str], blocks: Iterable[bytes],
                  then: list[str] | None = None) -> tuple[bytes, str, str]:
    """Run ffmpeg with *args*, writing *blocks* to its stdin as they come (nothing is gathered
    in memory). With *then*, a second ffmpeg reads the first one's output while it is being
    written. Returns (the first one's stdout, its stderr, the second one's stderr)."""
    procs = [_popen(args)] + ([_popen(then)] if then is not None else [])
    got: dict[tuple[int, str], bytes] = {}

    def drain(index: int, name: str, stream: IO[bytes]) -> None:
        got[index, name] = stream.read()

    def relay(source: IO[bytes], sink: IO[bytes]) -> None:
        pieces = []
        with sink:
            for piece in iter(lambda: source.read(1 << 16), b""):
                pieces.append(piece)
                with contextlib.suppress(BrokenPipeError):
                    sink.write(piece)
        got[0, "out"] = b"".join(pieces)

    first = procs[0]
    assert first.stdin is not None and first.stdout is not None
    threads = [threading.Thread(target=drain, args=(i, "err", p.stderr), daemon=True)
               for i, p in enumerate(procs)]
    if then is None:
        threads.append(threading.Thread(target=drain, args=(0, "out", first.stdout), daemon=True))
    else:
        threads.append(threading.Thread(target=relay, args=(first.stdout, procs[1].stdin), daemon=True))
    for thread in threads:
        thread.start()
    try:
        with first.stdin:
            for block in blocks:
                first.stdin.write(block)
    except BrokenPipeError:
        pass  # ffmpeg stopped reading: its exit status and stderr say why
    finally:
        for proc in procs:
            proc.wait()
        for thread in threads:
            thread.join()
    errs = [got.get((i, "err"), b"").decode("utf-8", errors="replace") for i in range(len(procs))]
    for proc, err in zip(procs, errs, strict=True):
        if proc.returncode != 0:
            tail = " | ".join(line for line in err.strip().splitlines()[-3:])
            raise AudioError(f"ffmpeg failed ({proc.returncode}): {tail}")
    return got.get((0, "out"), b""), errs[0], errs[1] if then is not None else ""


def _popen(args: list[str]) -> subprocess.Popen[bytes]:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "info", *args]
    try:
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        raise AudioError(f"cannot run ffmpeg: {exc}") from exc


@functools.cache
def ffmpeg_version() -> str:
    """The first line of ``ffmpeg -version`` (part of every encoded section's cache key)."""
    out, _ = ffmpeg(["-version"])
    return out.decode("utf-8", errors="replace").splitlines()[0].strip()


def _raw_args(rate: int, channels: int) -> list[str]:
    return ["-f", "f32le", "-ar", str(rate), "-ac", str(channels)]


def as_frames(samples: npt.NDArray[np.generic], channels: int | None = None) -> Audio:
    """int16 or float samples as float32 (frames, channels), optionally up/down-mixed."""
    data = samples.astype(np.float32)
    if samples.dtype == np.int16:
        data /= 32768.0
    if data.ndim == 1:
        data = data[:, None]
    if channels is not None and data.shape[1] != channels:  # mix down, then spread
        data = np.repeat(data.mean(axis=1, keepdims=True), channels, axis=1)
    return np.ascontiguousarray(data, dtype=np.float32)


def write_wav(path: Path, samples: npt.NDArray[np.int16], rate: int) -> None:
    """Write int16 samples ((frames,) or (frames, channels)) as a 16-bit WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1 if samples.ndim == 1 else int(samples.shape[1]))
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def decode(path: Path, rate: int, channels: int) -> Audio:
    """Decode any audio file to float32 (frames, channels) at *rate*."""
    out, _ = ffmpeg(["-i", str(path), "-vn", "-map", "0:a:0", *_raw_args(rate, channels), "-"])
    return np.frombuffer(out, dtype="<f4").reshape(-1, channels).astype(np.float32)


DECODE_CHECK_S = 60.0
"""How long checking that a music file decodes may take."""
_FFMPEG_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\] ")


def audio_problem(path: Path) -> str | None:
    """Why *path* is not audio that ffmpeg decodes (a phrase to follow its name), or None when
    its first audio stream decodes to some sound, as :func:`decode` will in the build."""
    stat = path.stat()
    return _audio_problem(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _audio_problem(path: str, mtime_ns: int, size: int) -> str | None:
    """:func:`audio_problem` of the file *path* as it was at *mtime_ns* with *size* bytes (every
    issue of a show checks the show's music: it is decoded once)."""
    if size == 0:
        return "is an empty file, not audio"
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", path, "-vn", "-map", "0:a:0",
           "-ac", "1", "-ar", "1000", "-f", "s16le", "-"]  # 2 KB a second: enough to count samples
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=DECODE_CHECK_S, check=False)
    except subprocess.TimeoutExpired:
        return f"did not decode within {DECODE_CHECK_S:g} s"
    except OSError as exc:
        raise AudioError(f"cannot run ffmpeg: {exc}") from exc
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", errors="replace").strip()
        if "matches no streams" in said:  # a picture, a video without sound
            return "has no audio stream"
        reason = _FFMPEG_PREFIX.sub("", (said.splitlines() or ["no reason given"])[-1])
        reason = reason.removeprefix(f"{path}: ")  # ffmpeg 6 and older: "FILE: reason"
        if reason.startswith("Error opening input"):  # ffmpeg 7: "Error opening input files: reason"
            reason = reason.partition(": ")[2] or reason
        return f"is not audio that ffmpeg can decode: {reason}"
    if not done.stdout:
        return "holds no audio"
    return None


def decode_bytes(data: bytes, rate: int, channels: int) -> Audio:
    """Decode an in-memory audio file (MP3, WAV, ...) to float32 (frames, channels)."""
    out, _ = ffmpeg(["-i", "-", "-vn", *_raw_args(rate, channels), "-"], data)
    return np.frombuffer(out, dtype="<f4").reshape(-1, channels).astype(np.float32)


def resample_mono(samples: npt.NDArray[np.float32], src: int, dst: int) -> npt.NDArray[np.float32]:
    """Resample one channel from *src* Hz to *dst* Hz (libsoxr, in process), exactly
    ``round(len * dst / src)`` samples long."""
    want = round(samples.shape[0] * dst / src)
    if src == dst:
        return samples
    import soxr

    out = np.asarray(soxr.resample(samples, src, dst, quality="HQ"), dtype=np.float32)
    if out.shape[0] >= want:
        return out[:want]
    return np.concatenate([out, np.zeros(want - out.shape[0], dtype=np.float32)])


@dataclass(frozen=True)
class Loudness:
    """EBU R128 measurements."""

    integrated_lufs: float
    true_peak_db: float
    range_lu: float


def encode_mp3(data: Audio, rate: int, path: Path, *, bitrate: str, gain_db: float,
               ceiling_db: float) -> None:
    """Apply *gain_db*, limit peaks to *ceiling_db* and encode one CBR MP3 file (a preview)."""
    ffmpeg([*_raw_args(rate, data.shape[1]), "-i", "-", "-af", limiter_chain(gain_db, ceiling_db),
            *_lame_args(rate, bitrate), "-y", str(path)], data.astype("<f4").tobytes())


def _lame_args(rate: int, bitrate: str) -> list[str]:
    """ffmpeg output options: CBR MP3 without metadata or tags, reproducible bytes."""
    return ["-c:a", "libmp3lame", "-b:a", bitrate, "-ar", str(rate), "-map_metadata", "-1",
            "-id3v2_version", "0", "-write_id3v1", "0", *_BITEXACT, "-f", "mp3"]


ENCODER_DELAY = 1105
"""Samples of silence before the first input sample in LAME's output as decoded (576 of
encoder delay and 529 of decoder delay): the episode's MP3 has no gapless tag to hide them,
so every decoder plays the same timeline."""
_L3_KBPS = {True: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
            False: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def samples_per_frame(rate: int) -> int:
    """Samples in one MP3 frame: 1152 for MPEG-1 rates (32 kHz and up), else 576."""
    return 1152 if rate >= 32000 else 576


def lame_frames(samples: int, rate: int) -> int:
    """How many frames LAME writes for *samples* input samples: the frames they fill, plus one
    for the encoder's delay (two at MPEG-2 rates). Checked on every encoded section."""
    spf = samples_per_frame(rate)
    return -(-samples // spf) + (1 if spf == 1152 else 2)


def _frame_length(header: int) -> int | None:
    """Bytes in the MPEG audio layer III frame that starts with *header*; None if it is not one."""
    version, layer = (header >> 19) & 3, (header >> 17) & 3
    kbps_index, rate_index, padding = (header >> 12) & 15, (header >> 10) & 3, (header >> 9) & 1
    if header >> 21 != 0x7FF or version == 1 or layer != 1 or kbps_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    kbps, rate = _L3_KBPS[mpeg1][kbps_index], _MPEG_RATES[version][rate_index]
    return (144 if mpeg1 else 72) * kbps * 1000 // rate + padding


def mp3_frames(data: bytes) -> int:
    """The number of MPEG audio layer III frames in *data*, which must hold nothing else."""
    count = pos = 0
    while pos < len(data):
        length = _frame_length(int.from_bytes(data[pos:pos + 4], "big")) if len(data) - pos >= 4 else None
        if length is None:
            raise AudioError(f"the encoder wrote something other than MP3 frames (byte {pos})")
        pos += length
        count += 1
    if pos != len(data):
        raise AudioError("the encoder's output ends inside an MP3 frame")
    return count


def info_frame(first: bytes, frames: int, size: int) -> bytes:
    """A Xing "Info" frame to put before *frames* MP3 frames of *size* bytes that start like
    *first*: players read the frame count and size from it (a CBR stream's exact duration)
    and skip it. It carries no LAME tag, so no player trims the encoder delay away."""
    header = int.from_bytes(first[:4], "big") & ~(1 << 9)  # no padding byte
    length = _frame_length(header)
    if length is None:
        raise AudioError("the encoded sections do not start with an MP3 frame")
    mpeg1, mono = (header >> 19) & 3 == 3, (header >> 6) & 3 == 3
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    body = b"Info" + (3).to_bytes(4, "big") + frames.to_bytes(4, "big") + (size + length).to_bytes(4, "big")
    frame = header.to_bytes(4, "big") + bytes(side_info) + body
    return frame + bytes(length - len(frame))


def limiter_chain(gain_db: float, ceiling_db: float) -> str:
    """ffmpeg filters: gain, then a look-ahead peak limiter (delay compensated) at *ceiling_db*."""
    limit = min(1.0, max(0.0625, 10 ** (ceiling_db / 20)))
    return (f"volume={gain_db:.3f}dB,"
            f"alimiter=limit={limit:.5f}:attack=2:release=80:level=false:latency=true")


_INTEGRATED = re.compile(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS")


def _lufs(value: str) -> float:
    return float("-inf") if value == "-inf" else float(value)


def _summary(err: str, *patterns: re.Pattern[str]) -> list[float]:
    """The values *patterns* find in the summary ffmpeg's ebur128 filter printed last."""
    summary = err[err.rfind("Summary:"):]
    found = [pattern.search(summary) for pattern in patterns]
    if not all(found):
        raise AudioError("could not read the loudness measurement from ffmpeg")
    return [_lufs(match.group(1)) for match in found if match]


def integrated_loudness(blocks: Iterable[bytes], rate: int, channels: int) -> float:
    """Integrated loudness (LUFS) of float32 PCM streamed in *blocks*."""
    _, err, _ = ffmpeg_stream([*_raw_args(rate, channels), "-i", "-", "-af",
                               "ebur128=peak=none:framelog=quiet", "-f", "null", "-"], blocks)
    return _summary(err, _INTEGRATED)[0]


@dataclass(frozen=True)
class BlockLoudness:
    """An MP3's loudness as decoded, with the per-block values (BS.1770 400 ms momentary and
    3 s short-term blocks, every 100 ms) that combine measurements of consecutive pieces."""

    integrated_lufs: float
    true_peak_db: float
    momentary: tuple[float, ...]
    short_term: tuple[float, ...]


_FRAME_LOG = re.compile(r"M:\s*(-?[\d.]+|-inf)\s+S:\s*(-?[\d.]+|-inf)")
_TRUE_PEAK = re.compile(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS")


def encode_measured(blocks: Iterable[bytes], rate: int, channels: int, *, bitrate: str, gain_db: float,
                    ceiling_db: float) -> tuple[bytes, BlockLoudness]:
    """MP3 frames (CBR, no tags) of float32 PCM streamed in *blocks* after gain and limiter, and
    their loudness as decoded, measured by a second ffmpeg while the first one encodes."""
    mp3, _, err = ffmpeg_stream(
        [*_raw_args(rate, channels), "-i", "-", "-af", limiter_chain(gain_db, ceiling_db),
         *_lame_args(rate, bitrate), "-write_xing", "0", "-"],
        blocks, then=["-f", "mp3", "-i", "-", "-af", "ebur128=peak=true:framelog=info", "-f", "null", "-"])
    integrated, peak = _summary(err, _INTEGRATED, _TRUE_PEAK)
    values = _FRAME_LOG.findall(err[:err.rfind("Summary:")])
    return mp3, BlockLoudness(integrated, peak, tuple(_lufs(m) for m, _ in values),
                              tuple(_lufs(s) for _, s in values))


def gated_loudness(momentary: Iterable[float]) -> float:
    """BS.1770 integrated loudness from 400 ms block loudness values (absolute gate -70 LUFS,
    relative gate 10 LU below the mean of the blocks above it)."""
    values = np.asarray([m for m in momentary if m > -70.0], dtype=np.float64)
    if values.size == 0:
        return float("-inf")
    gate = 10 * np.log10((10 ** (values / 10)).mean()) - 10.0
    return float(10 * np.log10((10 ** (values[values > gate] / 10)).mean()))


def loudness_range(short_term: Iterable[float]) -> float:
    """EBU Tech 3342 loudness range from 3 s block loudness values (absolute gate -70 LUFS,
    relative gate 20 LU below their mean; 95th minus 10th percentile)."""
    values = np.asarray([s for s in short_term if s > -70.0], dtype=np.float64)
    if values.size == 0:
        return 0.0
    gate = 10 * np.log10((10 ** (values / 10)).mean()) - 20.0
    kept = values[values > gate]
    low, high = np.percentile(kept, [10, 95])
    return float(high - low)
