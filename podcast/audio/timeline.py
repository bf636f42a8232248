"""Lay clips on a timeline with pauses and music, and cut it into sections that encode alone.

Positions are counted in samples at the output rate. Nothing as long as the episode is ever
held in memory: the timeline is a list of clips and music beds, and a section's audio is
rendered in blocks when it is encoded. Each clip is resampled on its own (libsoxr), the
music is mixed under the voice with gain envelopes: the intro music plays alone, ducks under
the opening narration and fades; the outro music enters under the last segment and rises
after its last line.

Sections end in the silence between segments (and inside a segment longer than
:data:`MAX_SECTION_S`), where the MP3 encoder's delay and padding can sit without moving
anything: a section starts on an MP3 frame boundary and its encoded frames fill exactly the
space to the next one, so the sections' MP3 frames simply follow each other and every sound
plays :data:`podcast.audio.ffmpeg.ENCODER_DELAY` samples after its place on the timeline. A section's
audio depends only on what is in it (:meth:`Section.key`), so an edit re-encodes only the
sections it touches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from podcast.audio.ffmpeg import (
    ENCODER_DELAY,
    Audio,
    as_frames,
    decode,
    lame_frames,
    resample_mono,
    samples_per_frame,
)
from podcast.engines.base import Clip
from podcast.input.show import Show
from podcast.synthesis.run import SegmentPlan, Synthesis

_NO_MUSIC_LEAD_S = 0.4
_NO_MUSIC_TAIL_S = 1.2
_SILENCE = 0.003  # about -50 dBFS: below this, a clip's edges count as silence
_KEEP_BEFORE_S = 0.005
_KEEP_AFTER_S = 0.040
_INTRO_FADE_S = 1.5
MAX_SECTION_S = 120.0
"""A section grows past this only when there is no silence to end it in."""
BLOCK_FRAMES = 1 << 16
"""Frames rendered at a time when a section is streamed to the encoder."""
FORMAT = 1
"""Version of the rendering below (part of every section's key)."""


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
class Placed:
    """A trimmed clip at output sample *at* of the timeline, *frames* long once resampled."""

    at: int
    frames: int
    clip: Clip
    key: str
    """The clip's cache key."""
    digest: str
    """SHA-256 of the trimmed clip's samples and rate."""


@dataclass(frozen=True)
class Bed:
    """A music track laid from output sample *at*, scaled by a piecewise-linear gain given as
    (sample of the track, gain) points; silent before the first and after the last point."""

    track: Audio = field(repr=False)
    digest: str
    at: int
    points: tuple[tuple[int, float], ...]

    def gains(self, lo: int, hi: int) -> Audio:
        """Gain for track samples lo..hi-1."""
        xs, ys = zip(*self.points, strict=True)
        gains = np.interp(np.arange(lo, hi, dtype=np.float64), xs, ys)
        return np.asarray(gains, dtype=np.float32)


@dataclass(frozen=True)
class Section:
    """A stretch of the timeline encoded on its own: *frames* samples from *start*, which is
    MP3 frame *first_frame*'s first sample."""

    first_frame: int
    start: int
    frames: int
    clips: tuple[Placed, ...]
    beds: tuple[Bed, ...]

    def key(self, rate: int, channels: int) -> str:
        """A hash of everything the section's audio is made of, relative to its start."""
        payload = {
            "format": FORMAT, "rate": rate, "channels": channels, "frames": self.frames,
            "clips": [[p.digest, p.at - self.start] for p in self.clips],
            "beds": [[b.digest, b.at - self.start, [[x, repr(g)] for x, g in b.points]] for b in self.beds],
        }
        return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Mix:
    """The episode before encoding: where everything is, and the sections that make it up."""

    sample_rate: int
    channels: int
    placements: tuple[Placement, ...]
    sections: tuple[Section, ...]

    @property
    def mp3_frames(self) -> int:
        """MP3 frames of the encoded episode."""
        last = self.sections[-1]
        return last.first_frame + lame_frames(last.frames, self.sample_rate)

    @property
    def duration_s(self) -> float:
        """Duration of the encoded episode as decoded, from its exact frame count."""
        return self.mp3_frames * samples_per_frame(self.sample_rate) / self.sample_rate

    def voices(self, section: Section) -> list[tuple[int, Audio]]:
        """The section's clips resampled to the output rate (mono), with their offsets in it."""
        return [(p.at - section.start,
                 resample_mono(as_frames(p.clip.samples, 1)[:, 0], p.clip.sample_rate, self.sample_rate))
                for p in section.clips]

    def render(self, section: Section, voices: list[tuple[int, Audio]] | None = None) -> Iterator[Audio]:
        """The section's audio, float32 (frames, channels), in blocks of at most
        :data:`BLOCK_FRAMES` (*voices*: :meth:`voices`, when already made)."""
        voices = self.voices(section) if voices is None else voices
        for lo in range(0, section.frames, BLOCK_FRAMES):
            hi = min(section.frames, lo + BLOCK_FRAMES)
            block = np.zeros((hi - lo, self.channels), dtype=np.float32)
            for at, voice in voices:
                a, b = max(lo, at), min(hi, at + voice.shape[0])
                if a < b:
                    block[a - lo:b - lo] += voice[a - at:b - at, None]
            for bed in section.beds:
                at = bed.at - section.start
                a, b = max(lo, at), min(hi, at + bed.track.shape[0])
                if a < b:
                    block[a - lo:b - lo] += bed.track[a - at:b - at] * bed.gains(a - at, b - at)[:, None]
            yield block


def mix(plans: list[SegmentPlan], synthesis: Synthesis, show: Show) -> Mix:
    """Lay out the episode from its synthesized clips and cut it into sections."""
    rate, channels = show.output.sample_rate, show.output.channels
    music = show.music
    intro = decode(music.intro, rate, channels) if music.intro and plans else None
    outro = decode(music.outro, rate, channels) if music.outro and plans else None
    lead = music.lead_in_s if music.intro else _NO_MUSIC_LEAD_S
    tail = music.tail_s if music.outro else _NO_MUSIC_TAIL_S
    pauses = show.pauses
    offset = ENCODER_DELAY / rate  # every sound plays this much after its timeline position
    cut = _Cutter(rate)
    cursor = round(lead * rate)
    bounds: list[tuple[int, int]] = []  # each segment's first and last voiced sample
    placements: list[Placement] = []
    for i, p in enumerate(plans):
        cues: list[Cue] = []
        first_at = last_end = -1
        for j, part in enumerate(p.parts):
            clip = trim(synthesis.clips[part.key])
            frames = round(clip.frames * rate / clip.sample_rate)
            if j == 0 or cut.long(cursor):
                cursor = cut.before(cursor)
            cut.add(Placed(cursor, frames, clip, part.key, _digest(clip)))
            first_at = cursor if first_at < 0 else first_at
            last_end = cursor + frames
            at_s = cursor / rate + offset
            for (s, e), text in zip(_sentence_bounds(clip, part.chunk.written), part.chunk.written,
                                    strict=True):
                cues.append(Cue(at_s + s / clip.sample_rate, at_s + e / clip.sample_rate, text))
            cursor += frames + round(part.chunk.pause_after_ms * rate / 1000)
        if first_at < 0:
            first_at = last_end = cursor
        bounds.append((first_at, last_end))
        placements.append(Placement(p.segment.id, first_at / rate + offset, last_end / rate + offset,
                                    tuple(cues)))
        if i == 0 and intro is not None:  # the intro music fades out in the first section
            cut.busy_until(last_end + round(_INTRO_FADE_S * rate))
        if i + 1 < len(plans):
            gap = pauses.between_ms
            if p.segment.kind == "intro":
                gap = pauses.after_intro_ms
            elif plans[i + 1].segment.kind == "outro":
                gap = pauses.before_outro_ms
            cursor += round(gap * rate / 1000)
    total = cursor + round(tail * rate)
    sections = cut.finish(total)
    full, ducked = _db(music.volume_db), _db(music.volume_db + music.duck_db)
    if intro is not None and music.intro:
        voice_in, intro_end = bounds[0]
        points = [(0, full), (max(0, voice_in - round(0.8 * rate)), full), (voice_in, ducked),
                  (intro_end, ducked), (intro_end + round(_INTRO_FADE_S * rate), 0.0)]
        sections[0] = replace(sections[0], beds=(*sections[0].beds, _bed(intro, music.intro, 0, points)))
    if outro is not None and music.outro:
        last_start, last_end = bounds[-1]
        # it ends with the episode and enters under the last segment, inside the last section
        begin = max(0, total - outro.shape[0], last_start - rate, sections[-1].start)
        points = [(begin, 0.0), (begin + rate, ducked), (last_end, ducked),
                  (last_end + round(1.2 * rate), full), (total - 3 * rate, full), (total, 0.0)]
        bed = _bed(outro, music.outro, begin, points)
        sections[-1] = replace(sections[-1], beds=(*sections[-1].beds, bed))
    return Mix(rate, channels, tuple(placements), tuple(sections))


class _Cutter:
    """Builds the sections while the clips are laid out.

    Before a segment's first clip (and before any clip once a section is long), a new section
    may start: on the first MP3 frame boundary at or after the clip's place, which moves the
    clip later by less than a frame, and only if the encoder's extra frames fit in the silence
    before it. Every position in a section is then fixed relative to its start, whatever comes
    before it.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.spf = samples_per_frame(rate)
        self.extra = lame_frames(1, rate) - 1  # frames LAME writes past the samples
        self.sections: list[Section] = []
        self.first = 0  # first frame of the section being filled
        self.clips: list[Placed] = []
        self.busy = 0  # end of the last sound in it

    def long(self, cursor: int) -> bool:
        """Whether the section has grown long enough to end before *cursor* if it can."""
        return cursor - self.first * self.spf >= MAX_SECTION_S * self.rate

    def before(self, cursor: int) -> int:
        """Start a new section before a clip due at *cursor* if one fits; the clip's place."""
        if not self.clips:
            return cursor
        filled = -(-(self.busy - self.first * self.spf) // self.spf)
        aligned = -(-cursor // self.spf)
        if aligned - self.extra < self.first + filled:
            return cursor  # no room for the encoder's extra frames in this silence
        self._close((aligned - self.extra - self.first) * self.spf)
        self.first = aligned
        return aligned * self.spf

    def add(self, placed: Placed) -> None:
        """Put a clip in the current section."""
        self.clips.append(placed)
        self.busy_until(placed.at + placed.frames)

    def busy_until(self, end: int) -> None:
        """Mark the current section as sounding until *end*."""
        self.busy = max(self.busy, end)

    def finish(self, total: int) -> list[Section]:
        """The sections, the last one running to *total*."""
        self._close(max(1, total - self.first * self.spf))
        return self.sections

    def _close(self, frames: int) -> None:
        self.sections.append(Section(self.first, self.first * self.spf, frames, tuple(self.clips), ()))
        self.clips = []


def _bed(track: Audio, path: Path, at: int, points: list[tuple[int, float]]) -> Bed:
    """A bed from timeline sample *at* with envelope *points* (timeline samples), kept increasing."""
    kept: list[tuple[int, float]] = []
    for x, y in points:
        if not kept or x - at > kept[-1][0]:  # phases can overlap in a short segment
            kept.append((x - at, y))
    return Bed(track, hashlib.sha256(path.read_bytes()).hexdigest(), at, tuple(kept))


def _digest(clip: Clip) -> str:
    digest = hashlib.sha256(f"{clip.sample_rate}:{clip.samples.dtype.str}:{clip.channels}:".encode())
    digest.update(np.ascontiguousarray(clip.samples).data)
    return digest.hexdigest()


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


def _db(value: float) -> float:
    return float(10 ** (value / 20))
