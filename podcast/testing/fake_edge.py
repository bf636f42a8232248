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
import random
import socket
import struct
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

from aiohttp import WSMsgType, web

from podcast.errors import EngineError
from podcast.testing.edge_fuzz import random_answer, random_voice_list
from podcast.testing.edge_speech import (
    BYTES_PER_SECOND,
    CHUNK_BYTES,
    FRAME_BYTES,
    TICKS_PER_SECOND,
    VOICES,
    Speech,
    SynthesisRequest,
    audio_message,
    metadata,
    parse_message,
    parse_ssml,
    synthesize,
    text_message,
)

TRUSTED_CLIENT_TOKEN = "6A5AA1D4EAFF4E9FB37E23D68491D6F4"
WS_PATH = "/consumer/speech/synthesize/readaloud/edge/v1"
VOICES_PATH = "/consumer/speech/synthesize/readaloud/voices/list"
HTTP_FAULTS = {"refuse": 503, "http403": 403, "http429": 429, "http500": 500}
"""Faults that reject the websocket handshake, with the HTTP status they answer."""
FAULTS = frozenset({*HTTP_FAULTS, "drop", "drop_mid", "no_audio", "slow", "truncate", "silent",
                    "hang", "bad_frame", "not_mp3", "random", "object", "no_shortname", "ok"})
"""Every fault name :attr:`FakeEdgeServer.faults` and :attr:`FakeEdgeServer.voice_faults` accept.

``ok`` is normal behaviour (to put faults after some good answers). Synthesis: the HTTP ones
reject the handshake; ``drop`` closes after the request, ``drop_mid``
resets the connection halfway through the audio, ``no_audio`` ends the turn without audio,
``slow`` waits ``slow_s`` first, ``truncate`` sends a fifth of the audio, ``silent`` silence;
``hang`` accepts the websocket and never answers; ``bad_frame`` sends a binary frame whose
headers have no colon; ``not_mp3`` sends audio frames that hold no MP3; ``random`` answers
normally one time in four, else with random frames (:mod:`podcast.testing.edge_fuzz`, from
the server's seeded ``rng``). Voice list: the HTTP ones, ``hang``, ``object`` (a JSON object),
``no_shortname`` (entries without ``ShortName``) and ``random``.
"""

class FakeEdgeServer:
    """The fake service on 127.0.0.1: websocket synthesis and the JSON voice list on one port.

    Each websocket connection pops the next entry of :attr:`faults` (see :data:`FAULTS`); an
    empty queue means normal behaviour. :attr:`voice_faults` does the same for voice-list
    requests. Requests whose text contains one of :attr:`fail_texts`, or
    that name a voice missing from :attr:`voices`, are read and then closed without audio.
    """

    def __init__(self, *, latency_s: float = 0.0, faults: list[str] | None = None, slow_s: float = 30.0,
                 fail_texts: set[str] | None = None, port: int = 0, seed: int = 0) -> None:
        """Configure the server; nothing listens until :meth:`start`."""
        self.latency_s, self.slow_s = latency_s, slow_s
        self.rng = random.Random(seed)  # for the ``random`` fault
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
        self._cache: dict[tuple[str, ...], Speech] = {}

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
        if fault == "hang":
            await asyncio.sleep(self.slow_s)
        if fault == "object":
            return web.json_response({v["ShortName"]: v for v in self.voices})
        if fault == "no_shortname":
            return web.json_response([{k: v for k, v in voice.items() if k != "ShortName"}
                                      for voice in self.voices])
        if fault == "random":
            return web.Response(text=random_voice_list(self.rng, self.voices),
                                content_type="application/json")
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
                headers, body = parse_message(msg.data)
                if headers.get("Path") == "speech.config":
                    with contextlib.suppress(ValueError):
                        config = json.loads(body)
                elif headers.get("Path") == "ssml":
                    request_id = headers.get("X-RequestId") or uuid.uuid4().hex
                    try:
                        if not await self._turn(ws, request, request_id, body, config, fault):
                            break
                    except ConnectionError:  # the client went away while it was answered
                        break
                    if fault != "hang":
                        fault = None  # a connection's fault applies to its first turn only
        finally:
            if task is not None:
                self._tasks.discard(task)
        return ws

    async def _turn(self, ws: web.WebSocketResponse, request: web.Request, request_id: str, ssml: str,
                    config: dict[str, Any], fault: str | None) -> bool:
        """Answer one ``ssml`` message; False when the connection was closed."""
        try:
            voice, rate, pitch, volume, text = parse_ssml(ssml)
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
        if fault == "hang":
            return True  # read on (closing frames are answered), never speak
        if fault == "random" and self.rng.random() < 0.75:
            for message in random_answer(self.rng, request_id):
                if message is None:
                    await ws.close()
                    return False
                await (ws.send_str(message) if isinstance(message, str) else ws.send_bytes(message))
            return True
        if fault == "bad_frame":
            await ws.send_bytes(b"\x00\x0cno colon here" + b"\xff\xf3" * 10)
            return True
        await asyncio.sleep(self.latency_s + (self.slow_s if fault == "slow" else 0.0))
        tag = uuid.uuid4().hex
        await ws.send_str(text_message(request_id, "turn.start", {"context": {"serviceTag": tag}}))
        speech: Speech | None = None
        if fault != "no_audio":
            with contextlib.suppress(EngineError):
                speech = await self._speech(voice, rate, pitch, volume, text, fault == "silent")
        if speech is not None:
            stream_id = uuid.uuid4().hex.upper()
            await ws.send_str(text_message(request_id, "response", {
                "context": {"serviceTag": tag}, "audio": {"type": "inline", "streamId": stream_id}}))
            mp3 = b"<html>not audio</html>" * 20 if fault == "not_mp3" else speech.mp3
            keep = {"truncate": 5, "drop_mid": 2}.get(fault or "")  # keep 1/5 or 1/2 of the frames
            if keep:
                mp3 = mp3[: max(1, len(mp3) // keep // FRAME_BYTES) * FRAME_BYTES]
            chunks = [mp3[i:i + CHUNK_BYTES] for i in range(0, len(mp3), CHUNK_BYTES)]
            audio = config.get("context", {}).get("synthesis", {}).get("audio", {})
            options = audio.get("metadataoptions", {})
            kind = "WordBoundary" if options.get("wordBoundaryEnabled") == "true" else "SentenceBoundary"
            pending = list(speech.words if kind == "WordBoundary" else speech.sentences)
            sent = 0
            for chunk in chunks:
                sent += len(chunk)
                while pending and pending[0][0] * BYTES_PER_SECOND // TICKS_PER_SECOND < sent:
                    await ws.send_str(metadata(request_id, kind, pending.pop(0)))
                await ws.send_bytes(audio_message(request_id, stream_id, chunk))
            if fault == "drop_mid":
                if request.transport is not None:  # TCP reset: no close frame, no FIN
                    request.transport.get_extra_info("socket").setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    request.transport.abort()
                return False
            await ws.send_bytes(audio_message(request_id, stream_id, b""))
        await ws.send_str(text_message(request_id, "turn.end", {}))
        return True

    async def _speech(self, voice: str, rate: str, pitch: str, volume: str, text: str,
                      silent: bool) -> Speech:
        """Synthesized audio for a request, cached per voice, prosody and text."""
        key = (voice, rate, pitch, volume, text, str(silent))
        speech = self._cache.get(key)
        if speech is None:
            speech = await asyncio.to_thread(synthesize, text, rate, pitch, volume, silent)
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
