"""Everything that touches ffmpeg: decode, resample, measure loudness, encode once.

Audio between stages is float32 numpy arrays shaped (frames, channels) with an explicit
sample rate. The ffmpeg binary comes from the ``imageio-ffmpeg`` wheel (``PODCAST_FFMPEG``
overrides it), so ``pip install`` is all a machine needs.
"""

from __future__ import annotations

import os
import re
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from podcast.errors import AudioError

Audio = npt.NDArray[np.float32]
_BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact"]


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary."""
    env = os.environ.get("PODCAST_FFMPEG")
    if env:
        return env
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - hard dependency
        raise AudioError("ffmpeg not found: install imageio-ffmpeg or set PODCAST_FFMPEG") from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg(args: list[str], data: bytes | None = None) -> tuple[bytes, str]:
    """Run ffmpeg with *args*, feeding *data* on stdin; returns (stdout, stderr)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "info", *args]
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, check=False)
    except OSError as exc:
        raise AudioError(f"cannot run ffmpeg: {exc}") from exc
    err = proc.stderr.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        tail = " | ".join(line for line in err.strip().splitlines()[-3:])
        raise AudioError(f"ffmpeg failed ({proc.returncode}): {tail}")
    return proc.stdout, err


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


def decode_bytes(data: bytes, rate: int, channels: int) -> Audio:
    """Decode an in-memory audio file (MP3, WAV, ...) to float32 (frames, channels)."""
    out, _ = ffmpeg(["-i", "-", "-vn", *_raw_args(rate, channels), "-"], data)
    return np.frombuffer(out, dtype="<f4").reshape(-1, channels).astype(np.float32)


def resample(data: Audio, src: int, dst: int) -> Audio:
    """Resample (frames, channels) audio from *src* Hz to *dst* Hz (soxr), exact length."""
    if src == dst:
        return data
    channels = data.shape[1]
    out, _ = ffmpeg([*_raw_args(src, channels), "-i", "-",
                     "-af", f"aresample={dst}:resampler=soxr:precision=28",
                     *_raw_args(dst, channels), "-"], data.astype("<f4").tobytes())
    result = np.frombuffer(out, dtype="<f4").reshape(-1, channels)
    want = round(data.shape[0] * dst / src)
    if result.shape[0] >= want:
        return np.array(result[:want], dtype=np.float32)  # a writable copy
    pad = np.zeros((want - result.shape[0], channels), dtype=np.float32)
    return np.concatenate([result, pad]).astype(np.float32)


@dataclass(frozen=True)
class Loudness:
    """EBU R128 measurements."""

    integrated_lufs: float
    true_peak_db: float
    range_lu: float


_SUMMARY = re.compile(
    r"Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS.*?Loudness range:\s+LRA:\s+(-?[\d.]+) LU"
    r".*?True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", re.S)


def _parse_ebur128(stderr: str) -> Loudness:
    match = _SUMMARY.search(stderr[stderr.rfind("Summary:"):])
    if not match:
        raise AudioError("could not read the loudness measurement from ffmpeg")
    values = [float(v) if v != "-inf" else float("-inf") for v in match.groups()]
    return Loudness(values[0], values[2], values[1])


def measure(data: Audio, rate: int) -> Loudness:
    """Integrated loudness, loudness range and true peak of PCM audio."""
    _, err = ffmpeg([*_raw_args(rate, data.shape[1]), "-i", "-",
                     "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                    data.astype("<f4").tobytes())
    return _parse_ebur128(err)


def measure_file(path: Path) -> Loudness:
    """Integrated loudness, loudness range and true peak of an audio file, as decoded."""
    _, err = ffmpeg(["-i", str(path), "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"])
    return _parse_ebur128(err)


def encode_mp3(data: Audio, rate: int, path: Path, *, bitrate: str, gain_db: float,
               ceiling_db: float) -> None:
    """Apply *gain_db*, limit true peaks (4× oversampled) to *ceiling_db*, encode one CBR MP3.

    The limiter compensates its look-ahead, so sample positions are unchanged.
    """
    limit = min(1.0, max(0.0625, 10 ** (ceiling_db / 20)))
    chain = (f"volume={gain_db:.3f}dB,aresample={rate * 4},"
             f"alimiter=limit={limit:.5f}:attack=2:release=80:level=false:latency=true,"
             f"aresample={rate}")
    ffmpeg([*_raw_args(rate, data.shape[1]), "-i", "-", "-af", chain,
            "-c:a", "libmp3lame", "-b:a", bitrate, "-ar", str(rate),
            "-map_metadata", "-1", "-id3v2_version", "0", "-write_id3v1", "0", *_BITEXACT,
            "-f", "mp3", "-y", str(path)], data.astype("<f4").tobytes())
