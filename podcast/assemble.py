"""Lay clips on a timeline, add pauses and music, and mix in one pass.

Positions are counted in samples at the engine's rate and converted to seconds exactly;
the voice track is built in one preallocated buffer (never ``a + b`` in a loop), resampled
once to the output rate, and the music is mixed under it with gain envelopes: the intro music
plays alone, ducks under the opening narration and fades; the outro music enters under the
last segment and rises after its last line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from podcast.audio import Audio, as_frames, decode, resample
from podcast.engines.base import Clip
from podcast.show import Show
from podcast.synthesize import SegmentPlan, Synthesis

_NO_MUSIC_LEAD_S = 0.4
_NO_MUSIC_TAIL_S = 1.2
_SILENCE = 0.003  # about -50 dBFS: below this, a clip's edges count as silence
_KEEP_BEFORE_S = 0.005
_KEEP_AFTER_S = 0.040


@dataclass(frozen=True)
class Cue:
    """One sentence as written, with its start and end in the episode (seconds)."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Placement:
    """Where a segment's voice sits in the episode (seconds)."""

    segment_id: str
    start_s: float
    end_s: float
    cues: tuple[Cue, ...]


@dataclass(frozen=True)
class Mix:
    """The finished (not yet normalized) episode audio and where everything is."""

    samples: Audio
    sample_rate: int
    placements: tuple[Placement, ...]

    @property
    def duration_s(self) -> float:
        """Duration from the exact frame count."""
        return int(self.samples.shape[0]) / self.sample_rate


def mix(plans: list[SegmentPlan], synthesis: Synthesis, show: Show) -> Mix:
    """Assemble the episode from its synthesized clips."""
    clips = [[synthesis.clips[part.key] for part in p.parts] for p in plans]
    rate = _voice_rate(clips)
    out_rate, channels = show.output.sample_rate, show.output.channels
    music = show.music
    lead = music.lead_in_s if music.intro else _NO_MUSIC_LEAD_S
    tail = music.tail_s if music.outro else _NO_MUSIC_TAIL_S
    pauses = show.pauses

    # First pass: positions only (sample counts at the voice rate).
    cursor = round(lead * rate)
    layout: list[list[tuple[int, Clip]]] = []
    placements: list[Placement] = []
    for i, (p, seg_clips) in enumerate(zip(plans, clips, strict=True)):
        start = cursor
        cues: list[Cue] = []
        placed: list[tuple[int, Clip]] = []
        for part, clip in zip(p.parts, seg_clips, strict=True):
            clip = trim(_at_rate(clip, rate))
            placed.append((cursor, clip))
            for (s, e), text in zip(_sentence_bounds(clip, part.chunk.written),
                                    part.chunk.written, strict=True):
                cues.append(Cue((cursor + s) / rate, (cursor + e) / rate, text))
            cursor += clip.frames + round(part.chunk.pause_after_ms * rate / 1000)
        layout.append(placed)
        placements.append(Placement(p.segment.id, start / rate, (_voiced_end(placed) or start) / rate,
                                    tuple(cues)))
        if i + 1 < len(plans):
            gap = pauses.between_ms
            if p.segment.kind == "intro":
                gap = pauses.after_intro_ms
            elif plans[i + 1].segment.kind == "outro":
                gap = pauses.before_outro_ms
            cursor += round(gap * rate / 1000)
    total = cursor + round(tail * rate)

    # Second pass: one buffer, one copy per clip.
    voice = np.zeros((total, 1), dtype=np.float32)
    for placed in layout:
        for at, clip in placed:
            voice[at:at + clip.frames] += as_frames(clip.samples, 1)
    voice = resample(voice, rate, out_rate)
    episode = np.repeat(voice, channels, axis=1) if channels > 1 else voice
    episode = np.ascontiguousarray(episode, dtype=np.float32)
    if placements:
        _add_music(episode, out_rate, show, placements)
    return Mix(episode, out_rate, tuple(placements))


def _voice_rate(clips: list[list[Clip]]) -> int:
    rates = [c.sample_rate for seg in clips for c in seg]
    return int(max(set(rates), key=rates.count)) if rates else 24000


def _at_rate(clip: Clip, rate: int) -> Clip:
    """The clip at *rate* (resampled in the rare case an engine mixed rates), marks scaled."""
    if clip.sample_rate == rate:
        return clip
    data = resample(as_frames(clip.samples, 1), clip.sample_rate, rate)
    samples = np.clip(np.round(data[:, 0] * 32767), -32768, 32767).astype(np.int16)
    scale = rate / clip.sample_rate
    return Clip(samples, rate, tuple(round(m * scale) for m in clip.marks))


def trim(clip: Clip) -> Clip:
    """*clip* without the silence engines leave before and after speech; marks follow."""
    level = np.abs(as_frames(clip.samples, 1)[:, 0])
    loud = np.flatnonzero(level > _SILENCE)
    if loud.size == 0:
        return clip
    first = max(0, int(loud[0]) - round(_KEEP_BEFORE_S * clip.sample_rate))
    last = min(clip.frames, int(loud[-1]) + 1 + round(_KEEP_AFTER_S * clip.sample_rate))
    marks = tuple(min(max(0, m - first), last - first) for m in clip.marks)
    return Clip(clip.samples[first:last], clip.sample_rate, marks)


def _sentence_bounds(clip: Clip, texts: tuple[str, ...]) -> list[tuple[int, int]]:
    """Start and end sample of each sentence in *clip*.

    Engines report sentence starts as marks; any the engine did not report are estimated by
    sharing the remaining audio in proportion to the sentences' lengths.
    """
    n = len(texts)
    starts = [int(m) for m in clip.marks[:n]] or [0]
    if len(starts) < n:
        known = len(starts)
        rest = texts[known - 1:]
        weights = np.cumsum([max(1, len(t)) for t in rest])
        span = clip.frames - starts[-1]
        starts += [starts[-1] + round(span * w / weights[-1]) for w in weights[:-1]][: n - known]
    ends = [*starts[1:], clip.frames]
    return [(s, max(s, e)) for s, e in zip(starts, ends, strict=True)]


def _voiced_end(placed: list[tuple[int, Clip]]) -> int:
    return placed[-1][0] + placed[-1][1].frames if placed else 0


def _db(value: float) -> float:
    return float(10 ** (value / 20))


def _add_music(episode: Audio, rate: int, show: Show, placements: list[Placement]) -> None:
    """Mix intro and outro music into *episode* in place."""
    music = show.music
    channels = episode.shape[1]
    full, ducked = _db(music.volume_db), _db(music.volume_db + music.duck_db)
    end = episode.shape[0] / rate
    if music.intro:
        track = decode(music.intro, rate, channels)
        voice_in = placements[0].start_s
        intro_end = placements[0].end_s
        points = [(0.0, full), (max(0.0, voice_in - 0.8), full), (voice_in, ducked),
                  (intro_end, ducked), (intro_end + 1.5, 0.0)]
        _place(episode, track, 0, rate, points)
    if music.outro:
        track = decode(music.outro, rate, channels)
        last = placements[-1]
        # the music ends with the episode; it enters under the last segment at the earliest
        begin = max(0.0, end - track.shape[0] / rate, last.start_s - 1.0)
        points = [(begin, 0.0), (begin + 1.0, ducked), (last.end_s, ducked),
                  (last.end_s + 1.2, full), (end - 3.0, full), (end, 0.0)]
        _place(episode, track, round(begin * rate), rate, points)


def _place(episode: Audio, track: Audio, at: int, rate: int,
           points: list[tuple[float, float]]) -> None:
    """Add *track* at frame *at*, scaled by the piecewise-linear gain *points* (episode time)."""
    n = min(track.shape[0], episode.shape[0] - at)
    if n <= 0:
        return
    t = (at + np.arange(n, dtype=np.float64)) / rate
    xs, ys = [points[0][0]], [points[0][1]]
    for x, y in points[1:]:
        if x > xs[-1]:  # keep the envelope's times increasing when phases overlap
            xs.append(x)
            ys.append(y)
    gain = np.interp(t, np.asarray(xs), np.asarray(ys)).astype(np.float32)
    episode[at:at + n] += track[:n] * gain[:, None]
