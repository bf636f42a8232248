"""The fake edge service's speech: its voice list, sentence splitting, real espeak audio
encoded as edge's MP3 stream, and the protocol's messages (used by :mod:`podcast.testing.fake_edge`)."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import imageio_ffmpeg
import numpy as np

from podcast.engines.base import Request, Voice
from podcast.engines.espeak import EspeakEngine
from podcast.errors import EngineError

if TYPE_CHECKING:
    from podcast.engines.base import Samples

TICKS_PER_SECOND = 10_000_000
BYTES_PER_SECOND = 6_000  # 48 kbps CBR
FRAME_BYTES = 144  # one MPEG-2 layer III frame at 24 kHz / 48 kbps, never padded
CHUNK_BYTES = 28 * FRAME_BYTES  # about 4 KB of audio per binary message
_ENCODER_DELAY_TICKS = 1105 * TICKS_PER_SECOND // 24_000  # libmp3lame's leading delay samples
_SILENCE = 300  # int16 amplitude below which a sample counts as silence for boundary trimming
_NS = "{http://www.w3.org/2001/10/synthesis}"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SENTENCE = re.compile(r".+?(?:(?:[。！？!?…．]|\.(?![\w.]))+[”’\"'」』）)\]]*|$)")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[\u3400-\u9fff\uf900-\ufaff]")
_LONG_NAME = re.compile(r"^Microsoft Server Speech Text to Speech Voice \(([^,]+),\s*([^)]+)\)$")

_LOCALES = {"zh-CN": "Chinese (Mainland)", "en-US": "English (United States)",
            "en-GB": "English (United Kingdom)", "ja-JP": "Japanese (Japan)", "de-DE": "German (Germany)",
            "fr-FR": "French (France)", "es-ES": "Spanish (Spain)", "ko-KR": "Korean (Korea)"}
_VOICE_TABLE = (
    ("zh-CN-XiaoxiaoNeural", "Female", "News,Novel", "Warm"),
    ("zh-CN-XiaoyiNeural", "Female", "Cartoon,Novel", "Lively"),
    ("zh-CN-YunjianNeural", "Male", "Sports,Novel", "Passion"),
    ("zh-CN-YunxiNeural", "Male", "Novel", "Lively,Sunshine"),
    ("zh-CN-YunyangNeural", "Male", "News", "Professional,Reliable"),
    ("en-GB-SoniaNeural", "Female", "General", "Friendly,Positive"),
    ("en-US-AndrewMultilingualNeural", "Male", "Conversation,Copilot", "Warm,Confident,Authentic,Honest"),
    ("en-US-AriaNeural", "Female", "News,Novel", "Positive,Confident"),
    ("en-US-EmmaMultilingualNeural", "Female", "Conversation,Copilot", "Cheerful,Clear"),
    ("en-US-GuyNeural", "Male", "News,Novel", "Passion"),
    ("en-US-JennyNeural", "Female", "General", "Friendly,Considerate,Comfort"),
    ("ja-JP-KeitaNeural", "Male", "General", "Friendly,Positive"),
    ("de-DE-ConradNeural", "Male", "General", "Friendly,Positive"),
    ("fr-FR-HenriNeural", "Male", "General", "Friendly,Positive"),
    ("es-ES-AlvaroNeural", "Male", "General", "Friendly,Positive"),
    ("ko-KR-InJoonNeural", "Male", "General", "Friendly,Positive"),
)


def _voice_entry(short: str, gender: str, categories: str, personalities: str) -> dict[str, Any]:
    """One voice in the service's JSON shape."""
    lang, region, name = short.split("-", 2)
    locale = f"{lang}-{region}"
    return {
        "Name": f"Microsoft Server Speech Text to Speech Voice ({locale}, {name})",
        "ShortName": short, "Gender": gender, "Locale": locale,
        "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
        "FriendlyName": f"Microsoft {name.removesuffix('Neural')} Online (Natural) - {_LOCALES[locale]}",
        "Status": "GA",
        "VoiceTag": {"ContentCategories": categories.split(","),
                     "VoicePersonalities": personalities.split(",")},
    }


VOICES: tuple[dict[str, Any], ...] = tuple(_voice_entry(*row) for row in _VOICE_TABLE)
"""The voice list the fake serves, in the service's JSON shape."""

_Boundary = tuple[int, int, str]  # offset and duration in ticks, plain text


@dataclass
class SynthesisRequest:
    """One ``ssml`` message the fake received (recorded before any fault is applied)."""

    voice: str  # short name such as ``zh-CN-YunxiNeural`` (the SSML carries the long form)
    rate: str
    pitch: str
    volume: str
    text: str  # unescaped
    connection_id: str  # the ``ConnectionId`` query parameter
    config: dict[str, Any] = field(default_factory=dict)  # the ``speech.config`` JSON
    request_id: str = ""  # the message's ``X-RequestId``
    fault: str | None = None  # the connection's fault, if any


@dataclass(frozen=True)
class Speech:
    """A cached synthesis: the MP3 stream and its boundaries."""

    mp3: bytes
    sentences: tuple[_Boundary, ...]
    words: tuple[_Boundary, ...]


def split_sentences(text: str) -> tuple[str, ...]:
    """Split *text* after 。！？!?. and similar (and at line breaks); punctuation-only pieces merge left."""
    merged: list[str] = []
    for piece in filter(None, (m.strip() for line in text.splitlines() for m in _SENTENCE.findall(line))):
        if merged and not re.search(r"\w", piece):
            merged[-1] += piece
        else:
            merged.append(piece)
    return tuple(merged)


def _ticks(samples: int, rate: int) -> int:
    """Samples at *rate* in 100-ns ticks."""
    return samples * TICKS_PER_SECOND // rate


def _encode_mp3(samples: Samples, rate: int) -> bytes:
    """Mono int16 PCM to the service's ``audio-24khz-48kbitrate-mono-mp3``: bare CBR frames."""
    cmd = [str(imageio_ffmpeg.get_ffmpeg_exe()), "-hide_banner", "-loglevel", "error",
           "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0",
           "-ar", "24000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "48k",
           "-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1",
           "-id3v2_version", "0", "-write_id3v1", "0", "-write_xing", "0", "-f", "mp3", "pipe:1"]
    pcm = samples.astype("<i2").tobytes()
    return subprocess.run(cmd, input=pcm, capture_output=True, check=True).stdout


def synthesize(text: str, rate: str, pitch: str, volume: str, silent: bool) -> Speech:
    """Speak *text* sentence by sentence with espeak-ng; MP3 plus sentence and word boundaries.

    Each sentence is its own espeak request, so boundaries stay exact even where espeak drops a
    ``<mark/>`` (it does after some English sentence ends).
    """
    sentences = split_sentences(text)
    name, language = ("cmn", "zh-CN") if _CJK.search(text) else ("en-us", "en-US")
    try:
        voice = Voice(name, rate=rate, pitch=pitch, volume=volume)
    except ValueError:
        voice = Voice(name)
    engine = EspeakEngine()
    clips = [engine.synthesize_sync(Request(sentences=(s,), voice=voice, language=language))
             for s in sentences]
    if not clips:
        raise EngineError("fake edge: nothing to say")
    sr, position = clips[0].sample_rate, 0
    bounds: list[_Boundary] = []
    words: list[_Boundary] = []
    for sentence, clip in zip(sentences, clips, strict=True):
        samples = clip.samples.reshape(-1)
        start, end = position, position + samples.size
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE)
        if loud.size:
            start, end = position + int(loud[0]), position + int(loud[-1]) + 1
        offset, duration = _ticks(start, sr) + _ENCODER_DELAY_TICKS, _ticks(end - start, sr)
        bounds.append((offset, duration, sentence))
        for word in _WORD.finditer(sentence):  # spread the sentence's time over its characters
            words.append((offset + duration * word.start() // len(sentence),
                          duration * len(word.group()) // len(sentence), word.group()))
        position += samples.size
    pcm = np.concatenate([clip.samples.reshape(-1) for clip in clips])
    return Speech(_encode_mp3(np.zeros_like(pcm) if silent else pcm, sr), tuple(bounds), tuple(words))


def parse_message(raw: str) -> tuple[dict[str, str], str]:
    """Headers and body of a protocol text message."""
    head, _, body = raw.partition("\r\n\r\n")
    pairs = (line.partition(":") for line in head.split("\r\n"))
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}, body


def parse_ssml(ssml: str) -> tuple[str, str, str, str, str]:
    """Voice short name, rate, pitch, volume and unescaped text of an edge-tts SSML document."""
    voice = ET.fromstring(ssml).find(f"{_NS}voice")
    if voice is None:
        raise ValueError("SSML without a voice element")
    prosody = voice.find(f"{_NS}prosody")
    node = voice if prosody is None else prosody
    name = voice.get("name", "")
    match = _LONG_NAME.match(name)
    short = f"{match.group(1)}-{match.group(2)}" if match else name
    return (short, node.get("rate", "+0%"), node.get("pitch", "+0Hz"), node.get("volume", "+0%"),
            "".join(node.itertext()))


def text_message(request_id: str, path: str, body: Any) -> str:
    """A service text message: headers, blank line, compact JSON body."""
    return (f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
            f"Path:{path}\r\n\r\n{json.dumps(body, ensure_ascii=False, separators=(',', ':'))}")


def audio_message(request_id: str, stream_id: str, data: bytes) -> bytes:
    """Binary frame: 2-byte big-endian header length, headers (the final empty one has no type), data."""
    content_type = "Content-Type:audio/mpeg\r\n" if data else ""
    head = f"X-RequestId:{request_id}\r\n{content_type}X-StreamId:{stream_id}\r\nPath:audio\r\n".encode()
    return len(head).to_bytes(2, "big") + head + data


def metadata(request_id: str, kind: str, bound: _Boundary) -> str:
    """An ``audio.metadata`` message with one Sentence- or WordBoundary (text XML-escaped)."""
    offset, duration, text = bound
    data = {"Offset": offset, "Duration": duration,
            "text": {"Text": escape(text), "Length": len(text), "BoundaryType": kind}}
    return text_message(request_id, "audio.metadata", {"Metadata": [{"Type": kind, "Data": data}]})
