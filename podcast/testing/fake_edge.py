"""A local fake of Microsoft Edge's read-aloud TTS service that speaks the exact edge-tts protocol.

The websocket answers each ``ssml`` request like the real service (``turn.start``, ``response``,
``audio.metadata`` boundaries, binary ``Path:audio`` MP3 frames, ``turn.end``) with real espeak-ng
speech encoded as 24 kHz 48 kbps CBR MP3, and can inject deterministic faults per connection.
Point edge-tts at it with ``edge_tts.communicate.WSS_URL = server.url`` and
``edge_tts.voices.VOICE_LIST = server.voices_url``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import socket
import struct
import subprocess
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

import imageio_ffmpeg
import numpy as np
from aiohttp import WSMsgType, web

from podcast.engines.base import Request, Voice
from podcast.engines.espeak import EspeakEngine
from podcast.errors import EngineError

if TYPE_CHECKING:
    from podcast.engines.base import Samples

TRUSTED_CLIENT_TOKEN = "6A5AA1D4EAFF4E9FB37E23D68491D6F4"
WS_PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
VOICES_PATH = "/consumer/speech/synthesize/readaloud/voices/list"
HTTP_FAULTS = {"refuse": 503, "http403": 403, "http429": 429, "http500": 500}
"""Faults that reject the websocket handshake, with the HTTP status they answer."""
FAULTS = frozenset({*HTTP_FAULTS, "drop", "drop_mid", "no_audio", "slow", "truncate", "silent"})
"""Every fault name :attr:`FakeEdgeServer.faults` accepts."""

TICKS_PER_SECOND = 10_000_000
_BYTES_PER_SECOND = 6_000  # 48 kbps CBR
_FRAME_BYTES = 144  # one MPEG-2 layer III frame at 24 kHz / 48 kbps, never padded
_CHUNK_BYTES = 28 * _FRAME_BYTES  # about 4 KB of audio per binary message
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
class _Speech:
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


def _synthesize(text: str, rate: str, pitch: str, volume: str, silent: bool) -> _Speech:
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
    return _Speech(_encode_mp3(np.zeros_like(pcm) if silent else pcm, sr), tuple(bounds), tuple(words))


def _parse_message(raw: str) -> tuple[dict[str, str], str]:
    """Headers and body of a protocol text message."""
    head, _, body = raw.partition("\r\n\r\n")
    pairs = (line.partition(":") for line in head.split("\r\n"))
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}, body


def _parse_ssml(ssml: str) -> tuple[str, str, str, str, str]:
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


def _text_message(request_id: str, path: str, body: Any) -> str:
    """A service text message: headers, blank line, compact JSON body."""
    return (f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
            f"Path:{path}\r\n\r\n{json.dumps(body, ensure_ascii=False, separators=(',', ':'))}")


def _audio_message(request_id: str, stream_id: str, data: bytes) -> bytes:
    """Binary frame: 2-byte big-endian header length, headers (the final empty one has no type), data."""
    content_type = "Content-Type:audio/mpeg\r\n" if data else ""
    head = f"X-RequestId:{request_id}\r\n{content_type}X-StreamId:{stream_id}\r\nPath:audio\r\n".encode()
    return len(head).to_bytes(2, "big") + head + data


def _metadata(request_id: str, kind: str, bound: _Boundary) -> str:
    """An ``audio.metadata`` message with one Sentence- or WordBoundary (text XML-escaped)."""
    offset, duration, text = bound
    data = {"Offset": offset, "Duration": duration,
            "text": {"Text": escape(text), "Length": len(text), "BoundaryType": kind}}
    return _text_message(request_id, "audio.metadata", {"Metadata": [{"Type": kind, "Data": data}]})


class FakeEdgeServer:
    """The fake service on 127.0.0.1: websocket synthesis and the JSON voice list on one port.

    Each websocket connection pops the next entry of :attr:`faults` (see :data:`FAULTS`); an
    empty queue means normal behaviour. :attr:`voice_faults` does the same for voice-list
    requests (HTTP faults only). Requests whose text contains one of :attr:`fail_texts`, or
    that name a voice missing from :attr:`voices`, are read and then closed without audio.
    """

    def __init__(self, *, latency_s: float = 0.0, faults: list[str] | None = None, slow_s: float = 30.0,
                 fail_texts: set[str] | None = None, port: int = 0) -> None:
        """Configure the server; nothing listens until :meth:`start`."""
        self.latency_s, self.slow_s = latency_s, slow_s
        self.faults: list[str] = list(faults or [])
        self.fail_texts: set[str] = set(fail_texts or ())
        self.voice_faults: list[str] = []
        self.voices: list[dict[str, Any]] = json.loads(json.dumps(VOICES))
        self.requests: list[SynthesisRequest] = []
        self.connections = self.rejected = 0  # websocket handshakes seen / answered with an HTTP error
        unknown = set(self.faults) - FAULTS
        if unknown:  # names appended later are checked when popped
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(FAULTS)}")
        self._port = port
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._cache: dict[tuple[str, ...], _Speech] = {}

    @property
    def port(self) -> int:
        """The port it listens on (after :meth:`start`)."""
        if self._runner is None:
            raise RuntimeError("FakeEdgeServer is not running")
        return self._port

    @property
    def url(self) -> str:
        """Websocket URL in the form of ``edge_tts.constants.WSS_URL``."""
        return f"ws://127.0.0.1:{self.port}{WS_PATH}?TrustedClientToken={TRUSTED_CLIENT_TOKEN}"

    @property
    def voices_url(self) -> str:
        """Voice-list URL in the form of ``edge_tts.constants.VOICE_LIST``."""
        return f"http://127.0.0.1:{self.port}{VOICES_PATH}?trustedclienttoken={TRUSTED_CLIENT_TOKEN}"

    async def start(self) -> None:
        """Start listening (on an ephemeral port unless one was given)."""
        app = web.Application()
        app.router.add_get(WS_PATH, self._handle_ws)
        app.router.add_get(VOICES_PATH, self._handle_voices)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self._port).start()
        self._port = int(runner.addresses[0][1])
        self._runner = runner

    async def stop(self) -> None:
        """Abort open connections (including slow ones) and stop listening."""
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @classmethod
    @contextlib.contextmanager
    def running(cls, **kwargs: Any) -> Iterator[FakeEdgeServer]:
        """Run a server with *kwargs* in a daemon thread with its own event loop while in the block."""
        server = cls(**kwargs)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            """Thread body: start, serve until the loop is stopped, then stop and clean up."""
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.start())
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(server.stop())
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        thread = threading.Thread(target=serve, name="fake-edge", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        try:
            yield server
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)

    def _next_fault(self, queue: list[str]) -> str | None:
        """Pop the next fault of *queue* (None when empty), rejecting unknown names."""
        fault = queue.pop(0) if queue else None
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {sorted(FAULTS)}")
        return fault

    async def _handle_voices(self, request: web.Request) -> web.StreamResponse:
        """GET voices/list: the JSON voice list, or the next voice fault's HTTP status."""
        fault = self._next_fault(self.voice_faults)
        if fault in HTTP_FAULTS:
            return web.Response(status=HTTP_FAULTS[fault], text=f"fake edge: {fault}")
        return web.json_response(self.voices)

    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        """The synthesis websocket: pop a fault, then answer every ``ssml`` message."""
        self.connections += 1
        fault = self._next_fault(self.faults)
        if fault in HTTP_FAULTS:
            self.rejected += 1
            return web.Response(status=HTTP_FAULTS[fault], text=f"fake edge: {fault}")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        config: dict[str, Any] = {}
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                headers, body = _parse_message(msg.data)
                if headers.get("Path") == "speech.config":
                    with contextlib.suppress(ValueError):
                        config = json.loads(body)
                elif headers.get("Path") == "ssml":
                    request_id = headers.get("X-RequestId") or uuid.uuid4().hex
                    if not await self._turn(ws, request, request_id, body, config, fault):
                        break
                    fault = None  # a connection's fault applies to its first turn only
        finally:
            if task is not None:
                self._tasks.discard(task)
        return ws

    async def _turn(self, ws: web.WebSocketResponse, request: web.Request, request_id: str, ssml: str,
                    config: dict[str, Any], fault: str | None) -> bool:
        """Answer one ``ssml`` message; False when the connection was closed."""
        try:
            voice, rate, pitch, volume, text = _parse_ssml(ssml)
        except (ET.ParseError, ValueError):
            await ws.close()
            return False
        self.requests.append(SynthesisRequest(voice, rate, pitch, volume, text,
                                              request.query.get("ConnectionId", ""), config,
                                              request_id, fault))
        known = any(v.get("ShortName") == voice for v in self.voices)
        if fault == "drop" or not known or any(s in text for s in self.fail_texts):
            await ws.close()
            return False
        await asyncio.sleep(self.latency_s + (self.slow_s if fault == "slow" else 0.0))
        tag = uuid.uuid4().hex
        await ws.send_str(_text_message(request_id, "turn.start", {"context": {"serviceTag": tag}}))
        speech: _Speech | None = None
        if fault != "no_audio":
            with contextlib.suppress(EngineError):
                speech = await self._speech(voice, rate, pitch, volume, text, fault == "silent")
        if speech is not None:
            stream_id = uuid.uuid4().hex.upper()
            await ws.send_str(_text_message(request_id, "response", {
                "context": {"serviceTag": tag}, "audio": {"type": "inline", "streamId": stream_id}}))
            mp3 = speech.mp3
            keep = {"truncate": 5, "drop_mid": 2}.get(fault or "")  # keep 1/5 or 1/2 of the frames
            if keep:
                mp3 = mp3[: max(1, len(mp3) // keep // _FRAME_BYTES) * _FRAME_BYTES]
            chunks = [mp3[i:i + _CHUNK_BYTES] for i in range(0, len(mp3), _CHUNK_BYTES)]
            audio = config.get("context", {}).get("synthesis", {}).get("audio", {})
            options = audio.get("metadataoptions", {})
            kind = "WordBoundary" if options.get("wordBoundaryEnabled") == "true" else "SentenceBoundary"
            pending = list(speech.words if kind == "WordBoundary" else speech.sentences)
            sent = 0
            for chunk in chunks:
                sent += len(chunk)
                while pending and pending[0][0] * _BYTES_PER_SECOND // TICKS_PER_SECOND < sent:
                    await ws.send_str(_metadata(request_id, kind, pending.pop(0)))
                await ws.send_bytes(_audio_message(request_id, stream_id, chunk))
            if fault == "drop_mid":
                if request.transport is not None:  # TCP reset: no close frame, no FIN
                    request.transport.get_extra_info("socket").setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    request.transport.abort()
                return False
            await ws.send_bytes(_audio_message(request_id, stream_id, b""))
        await ws.send_str(_text_message(request_id, "turn.end", {}))
        return True

    async def _speech(self, voice: str, rate: str, pitch: str, volume: str, text: str,
                      silent: bool) -> _Speech:
        """Synthesized audio for a request, cached per voice, prosody and text."""
        key = (voice, rate, pitch, volume, text, str(silent))
        speech = self._cache.get(key)
        if speech is None:
            speech = await asyncio.to_thread(_synthesize, text, rate, pitch, volume, silent)
            self._cache[key] = speech
        return speech


def main() -> None:
    """Run the fake standalone and print its URLs: ``python -m podcast.testing.fake_edge --port 8765``."""
    parser = argparse.ArgumentParser(prog="python -m podcast.testing.fake_edge", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: ephemeral)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    parser.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS),
                        help="fault for the next connection (repeatable, used in order)")
    parser.add_argument("--slow", type=float, default=30.0, help="delay of the 'slow' fault in seconds")
    parser.add_argument("--fail-text", action="append", default=[],
                        help="requests containing this text always fail (repeatable)")
    args = parser.parse_args()

    async def serve() -> None:
        """Run until interrupted."""
        server = FakeEdgeServer(latency_s=args.latency, faults=args.fault, slow_s=args.slow,
                                fail_texts=set(args.fail_text), port=args.port)
        await server.start()
        print(server.url, flush=True)  # noqa: T201
        print(server.voices_url, flush=True)  # noqa: T201
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
