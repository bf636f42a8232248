#!/usr/bin/env python3
"""Generate the package's default media: intro/outro jingles and the cover image.

Synthesised from scratch (no downloads) and deterministic: two runs give byte-identical
files. Usage, from the repository root: python scripts/make_assets.py [--out-dir DIR]
"""

import argparse
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import numpy.typing as npt

Signal = npt.NDArray[np.float64]

SR = 44100
BEAT = 0.5  # 120 BPM, played with a relaxed half-time pulse
BAR = 4 * BEAT
SEED = 20240607
PEAK_DBFS = -3.0
# name: (bass note, pad voicing, arpeggio notes) as MIDI numbers, key of D major.
CHORDS: dict[str, tuple[int, list[int], list[int]]] = {
    "Dmaj9": (38, [54, 57, 61, 64], [62, 69, 73, 76]),
    "Bm11": (35, [54, 57, 62, 64], [59, 66, 69, 74]),
    "Gmaj9": (31, [54, 57, 59, 62], [67, 71, 74, 78]),
    "A6sus": (33, [57, 59, 62, 64], [64, 69, 71, 74]),
    "F#m7": (42, [54, 57, 61, 64], [61, 66, 69, 73]),
}
ARP_ORDER = [0, 1, 2, 3, 1, 2, 3, 2]
ARP_VEL = [1.0, 0.55, 0.8, 0.6, 0.9, 0.55, 0.75, 0.6]


def hz(note: float) -> float:
    """Convert a (fractional) MIDI note number to a frequency in Hz."""
    return float(440.0 * 2.0 ** ((note - 69.0) / 12.0))


def smooth(x: Signal) -> Signal:
    """Smoothstep of ``x`` clipped to [0, 1]: a click-free envelope segment."""
    c = np.clip(x, 0.0, 1.0)
    return c * c * (3.0 - 2.0 * c)


def place(bus: Signal, sig: Signal, start: float, pan: float = 0.0) -> None:
    """Mix ``sig`` (mono, equal-power panned; or stereo) into stereo ``bus`` at ``start`` s."""
    i = round(start * SR)
    m = min(sig.shape[-1], bus.shape[-1] - i)
    if m <= 0:
        return
    if sig.ndim == 1:
        angle = (pan + 1.0) * np.pi / 4.0
        gains = np.sqrt(2.0) * np.array([np.cos(angle), np.sin(angle)])
        bus[:, i : i + m] += gains[:, None] * sig[None, :m]
    else:
        bus[:, i : i + m] += sig[:, :m]


def pad_tone(note: int, dur: float, rng: np.random.Generator) -> Signal:
    """Stereo pad voice: detuned soft-saw partials whose brightness swells and settles."""
    t = np.arange(int(dur * SR)) / SR
    bright = 1.6 + 1.4 * np.sin(np.pi * np.clip(t / 3.0, 0.0, 1.0))
    out = np.zeros((2, t.size))
    for ch, cents in enumerate((-6.0, 6.0)):
        for det in (cents, -0.4 * cents):
            f = hz(note + det / 100.0)
            for k in range(1, 9):
                phase = rng.uniform(0.0, 2.0 * np.pi)
                out[ch] += np.exp(-k / bright) / k * np.sin(2 * np.pi * k * f * t + phase)
    return out * smooth(t / 0.9) * smooth((dur - t) / 1.2)


def bass_tone(note: int, dur: float) -> Signal:
    """Round sub bass: sine plus a couple of harmonics so it survives small speakers."""
    t = np.arange(int(dur * SR)) / SR
    w = 2 * np.pi * hz(note) * t
    sig = np.sin(w) + 0.35 * np.sin(2 * w) + 0.12 * np.sin(3 * w)
    return sig * smooth(t / 0.08) * smooth((dur - t) / 0.5)


def pluck(note: int, vel: float, dur: float = 1.8) -> Signal:
    """Soft kalimba-like pluck: slightly inharmonic partials, higher ones decay faster."""
    t = np.arange(int(dur * SR)) / SR
    f, sig = hz(note), np.zeros(t.size)
    for k in range(1, 8):
        fk = k * f * (1.0 + 0.0006 * k * k)  # slight stiff-string stretch
        sig += k**-1.6 * np.exp(-t * (2.2 + 1.9 * k)) * np.sin(2 * np.pi * fk * t)
    return vel * sig * smooth(t / 0.004) * smooth((dur - t) / 0.3)


def kick() -> Signal:
    """Gentle low thump with a pitch drop (no click)."""
    t = np.arange(int(0.45 * SR)) / SR
    freq = 46.0 + 64.0 * np.exp(-t / 0.035)
    return np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t / 0.14) * smooth(t / 0.003)


def shaker(rng: np.random.Generator) -> Signal:
    """Short high-passed noise tick for the off-beats."""
    t = np.arange(int(0.12 * SR)) / SR
    noise = np.diff(rng.standard_normal(t.size + 2), n=2) / 4.0
    return noise * smooth(t / 0.003) * np.exp(-t / 0.025)


def feedback_comb(x: Signal, d: int, g: float) -> Signal:
    """Damped feedback comb ``y[n] = x[n] + g*(y[n-d] + y[n-d-1])/2``, vectorised per block."""
    y = x.copy()
    for s in range(d + 1, y.size, d):
        e = min(s + d, y.size)
        y[s:e] += 0.5 * g * (y[s - d : e - d] + y[s - d - 1 : e - d - 1])
    return y


def allpass(x: Signal, d: int, g: float) -> Signal:
    """Schroeder all-pass ``y[n] = -g*x[n] + x[n-d] + g*y[n-d]`` for diffusion."""
    y = -g * x
    y[d:] += x[:-d]
    for s in range(d, y.size, d):
        e = min(s + d, y.size)
        y[s:e] += g * y[s - d : e - d]
    return y


def reverb(x: Signal) -> Signal:
    """Small Schroeder-style room: parallel damped combs then all-passes, decorrelated L/R."""
    out = np.zeros_like(x)
    for ch, spread in enumerate((0, 31)):
        wet = sum(feedback_comb(x[ch], d + spread, 0.84) for d in (1557, 1617, 1867, 2053))
        out[ch] = allpass(allpass(np.asarray(wet) / 4.0, 556 + spread, 0.5), 225 + spread, 0.5)
    return out


def render(chords: list[str], length: float, lead_in: bool) -> Signal:
    """Arrange a jingle: one bar per chord, the last one held to the end of ``length`` s.

    ``lead_in``: bars 1-2 are a stand-alone build (pad, arpeggio, riser) landing at 4 s on a
    chime with the pulse entering. Otherwise the last chord is a strummed, ringing ending.
    """
    rng = np.random.default_rng(SEED)
    n = int(length * SR)
    pad, bass, arp, drums = (np.zeros((2, n)) for _ in range(4))
    pump = np.zeros(n)
    duck = 0.3 * np.exp(-np.arange(int(0.6 * SR)) / SR / 0.18)
    bass_from, groove_from = (1, 2) if lead_in else (0, 1)
    for i, name in enumerate(chords):
        root, voicing, notes = CHORDS[name]
        start, last = i * BAR, i == len(chords) - 1
        dur = length - start if last else BAR + 1.2
        for note in voicing:
            place(pad, pad_tone(note, dur, rng), start)
        if i >= bass_from:
            place(bass, bass_tone(root, dur), start)
        if last and not lead_in:
            place(drums, kick(), start)
            for j, note in enumerate([*notes, notes[0] + 12]):
                place(arp, pluck(note, 1.1, 4.5), start + 0.045 * j, 0.5 * (j / 2.0 - 1.0))
            continue
        for step, (idx, vel) in enumerate(zip(ARP_ORDER, ARP_VEL, strict=True)):
            t0 = start + step * BEAT / 2
            ramp = 0.75 + 0.25 * (i * 8 + step) / 16 if i < groove_from else 1.0
            ramp *= 0.85 if lead_in and i >= groove_from else 1.0  # sit under speech
            place(arp, pluck(notes[idx], vel * ramp), t0, -0.35 if step % 2 else 0.35)
            if i >= groove_from and step % 4 == 0:
                place(drums, kick(), t0)
                k = round(t0 * SR)
                pump[k : k + duck.size] += duck[: n - k]
            if i >= bass_from and step % 2:
                place(drums, 0.22 * shaker(rng), t0, 0.25)
    if lead_in:  # soft noise swell into the landing, then a bell chime on it
        t = np.arange(int(2.5 * SR)) / SR
        noise = rng.standard_normal((2, t.size + 31))
        swell = np.cumsum(noise, axis=1)[:, 31:] - np.cumsum(noise, axis=1)[:, :-31]
        place(drums, 0.012 * swell * (t / 2.5) ** 3 * smooth((2.5 - t) / 0.03), 2 * BAR - 2.5)
        for note, pan in ((74, -0.3), (81, 0.3), (86, 0.0)):
            place(arp, pluck(note, 0.8, 3.0), 2 * BAR, pan)
    ducked = (0.09 * pad + 0.22 * bass) * (1.0 - np.minimum(pump, 0.6))  # sidechain pump
    echo = np.zeros_like(arp)  # dotted-eighth ping-pong delay on the arpeggio
    for r in range(1, 5):
        sh = round(r * 0.75 * BEAT * SR)
        echo[r % 2, sh:] += 0.4**r * arp.sum(axis=0)[: n - sh] / 2
    dry = ducked + 0.55 * arp + 0.8 * echo + 0.75 * drums
    mix = dry + 0.3 * reverb(0.08 * pad + 0.6 * arp + 0.1 * drums)
    t = np.arange(n) / SR
    mix *= smooth(t / 0.05) * np.cos(0.5 * np.pi * np.clip((t - (length - 3.0)) / 3.0, 0, 1))
    gain = float(10.0 ** (PEAK_DBFS / 20.0)) / float(np.max(np.abs(mix)))
    return mix * gain


def encode_mp3(audio: Signal, path: Path) -> None:
    """Encode stereo float audio to a deterministic, untagged 192 kbps CBR MP3."""
    pcm = np.ascontiguousarray(audio.T, dtype="<f4").tobytes()
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
           "-f", "f32le", "-ar", str(SR), "-ac", "2", "-i", "pipe:0",
           "-c:a", "libmp3lame", "-b:a", "192k", "-fflags", "+bitexact", "-flags:a",
           "+bitexact", "-map_metadata", "-1", "-id3v2_version", "0", "-write_id3v1", "0",
           str(path)]  # fmt: skip
    subprocess.run(cmd, input=pcm, check=True)


def make_cover(out_dir: Path, size: int = 3000) -> Path:
    """Draw the square cover (gradient, rings, waveform, title); return the written file."""
    from PIL import Image, ImageDraw, ImageFont

    yy, xx = (a.astype(np.float32) / size for a in np.mgrid[0:size, 0:size])
    diag = ((xx + yy) / 2.0)[..., None]
    rgb = np.array([14, 18, 48], np.float32) + diag * np.array([10, 82, 78], np.float32)
    glow = np.exp(-((xx - 0.5) ** 2 + (yy - 0.4) ** 2) / 0.09)[..., None]
    rgb += glow * np.array([70, 30, 95], np.float32)
    ss = 2  # draw the motif supersampled for anti-aliasing
    big, cx, cy = size * ss, size * ss // 2, int(size * ss * 0.4)
    rings, bars = Image.new("L", (big, big)), Image.new("L", (big, big))
    draw = ImageDraw.Draw(rings)
    for i in range(9):
        r, alpha = int(big * (0.16 + 0.038 * i)), int(12 + 150 * (1 - i / 9) ** 1.5)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=alpha, width=5 * ss)
    draw, count, span = ImageDraw.Draw(bars), 41, big * 0.56
    for b in range(count):
        u, w = b / (count - 1), span / count
        x = cx - span / 2 + (b + 0.5) * w
        h = big * 0.14 * (0.12 + 0.88 * abs(np.sin(2.6 * np.pi * u) * np.sin(1.1 + 6.3 * u)))
        h *= float(np.sin(np.pi * (0.03 + 0.94 * u)) ** 1.1)
        draw.rounded_rectangle((x - 0.3 * w, cy - h, x + 0.3 * w, cy + h), 0.3 * w, fill=255)
    for mask, color in ((rings, (235, 240, 255)), (bars, (120, 230, 220))):
        small = mask.resize((size, size), Image.Resampling.LANCZOS)
        a = (np.asarray(small, np.float32) / 255.0)[..., None]
        rgb = rgb * (1.0 - a) + np.array(color, np.float32) * a
    img = Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    title, sub = ImageFont.load_default(size=440), ImageFont.load_default(size=150)
    draw.text((size / 2, size * 0.80), "podcast", font=title, fill=(246, 248, 252), anchor="mm")
    draw.text((size / 2, size * 0.895), "text-to-speech shows", font=sub,
              fill=(170, 225, 225), anchor="mm")  # fmt: skip
    path = out_dir / "cover.png"
    img.save(path, optimize=True)
    if path.stat().st_size > 1_500_000:
        path.unlink()
        path = out_dir / "cover.jpg"
        img.save(path, quality=90)
    return path


def main() -> None:
    """Command-line entry point: write intro.mp3, outro.mp3 and the cover to --out-dir."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out-dir", type=Path, default=Path("podcast/assets"))
    out_dir: Path = parser.parse_args().out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    jingles = {
        "intro": (["Gmaj9", "A6sus", "Dmaj9", "Bm11", "Gmaj9", "Dmaj9"], 12.0, True),
        "outro": (["Dmaj9", "F#m7", "Bm11", "Gmaj9", "A6sus", "Dmaj9"], 15.0, False),
    }
    for name, (chords, length, lead_in) in jingles.items():
        path = out_dir / f"{name}.mp3"
        encode_mp3(render(chords, length, lead_in), path)
        print(f"wrote {path} ({path.stat().st_size} bytes, {length:.0f} s)")
    cover = make_cover(out_dir)
    print(f"wrote {cover} ({cover.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
