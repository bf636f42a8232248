"""Loudness: bring the mix to the show's integrated loudness and true-peak ceiling, measured
on the encoded MP3 (EBU R128 / ITU BS.1770), with as few encodes of the mix as possible.

The mix is measured; a short excerpt (ten 4-second windows spread over the episode) is then
put through the same gain, limiter and MP3 encoder, which tells how much loudness limiting
and encoding take away (about 0.5 LU for espeak's voice). The whole mix is encoded once
with that correction and measured again; only if it still misses does a corrected encode
follow. Everything depends on the mix alone, so the result is deterministic.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from podcast import audio
from podcast.assemble import Mix
from podcast.errors import AudioError
from podcast.show import Show

MAX_PASSES = 4
TOLERANCE_LU = 0.5
_WINDOWS, _WINDOW_S = 10, 4.0


def excerpt(samples: audio.Audio, rate: int) -> audio.Audio:
    """Evenly spread windows of *samples*, joined (the whole of a short episode)."""
    size = round(_WINDOW_S * rate)
    frames = samples.shape[0]
    if frames <= size * _WINDOWS:
        return samples
    starts = [round(i * (frames - size) / (_WINDOWS - 1)) for i in range(_WINDOWS)]
    return np.concatenate([samples[a:a + size] for a in starts])


def encoding_loss(samples: audio.Audio, rate: int, *, bitrate: str, gain_db: float,
                  ceiling_db: float) -> float:
    """LU that the limiter and the MP3 encoder take away, measured on an excerpt."""
    part = excerpt(samples, rate)
    before = audio.measure(part, rate).integrated_lufs + gain_db
    with tempfile.TemporaryDirectory() as folder:
        trial = Path(folder) / "excerpt.mp3"
        audio.encode_mp3(part, rate, trial, bitrate=bitrate, gain_db=gain_db, ceiling_db=ceiling_db)
        after = audio.measure_file(trial).integrated_lufs
    loss = before - after
    return loss if np.isfinite(loss) else 0.0


def encode_normalized(episode: Mix, show: Show, path: Path) -> audio.Loudness:
    """Encode *episode* to *path* at the show's loudness, verified on the encoded file.

    The true-peak ceiling starts below the target to leave room for MP3 overshoot. If the
    encoded file misses a target, gain and ceiling are corrected and the encode is redone
    from the same mix (never re-encoding an MP3).
    """
    target = show.loudness
    rate, samples, bitrate = episode.sample_rate, episode.samples, show.output.bitrate
    measured = audio.measure(samples, rate)
    if measured.integrated_lufs == float("-inf"):
        raise AudioError("the episode is silent")
    ceiling = target.true_peak_db - 1.0
    gain = target.integrated_lufs - measured.integrated_lufs
    gain += encoding_loss(samples, rate, bitrate=bitrate, gain_db=gain, ceiling_db=ceiling)
    result = measured
    for _ in range(MAX_PASSES):
        audio.encode_mp3(samples, rate, path, bitrate=bitrate, gain_db=gain, ceiling_db=ceiling)
        result = audio.measure_file(path)
        loud_ok = abs(result.integrated_lufs - target.integrated_lufs) <= TOLERANCE_LU
        peak_ok = result.true_peak_db <= target.true_peak_db
        if loud_ok and peak_ok:
            break
        gain += target.integrated_lufs - result.integrated_lufs
        if not peak_ok:
            ceiling -= result.true_peak_db - target.true_peak_db + 0.3
    return result
