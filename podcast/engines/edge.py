"""Microsoft Edge neural voices through the ``edge-tts`` library.

The service's websocket URL can be replaced (``PODCAST_EDGE_ENDPOINT`` or the show's
``edge.endpoint``) for relays and tests; then the engine talks only to that URL, and fetches
the voice list from the same host. Every failure is classified, never passed on raw: its
``kind`` (``timeout``, ``HTTP 403``, ``connection``, ``no audio``, ``malformed answer``,
``not MP3``, ``cut short``) and :class:`TransientEngineError` for what a retry may fix
(refused or dropped connections, HTTP 403/429/5xx at the handshake, no or bad audio,
timeouts, answers outside the protocol), :class:`EngineError` for the rest. Retries, and
stopping the queue when failures of one kind repeat, are the synthesis stage's job.
edge-tts, aiohttp and numpy are imported when first needed, so that checking a show
(``podcast validate``) does not load them.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import Callable
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from podcast.engines.base import Capabilities, Clip, Engine, Request, VoiceInfo
from podcast.engines.options import Option
from podcast.errors import EngineError, EngineUnavailable, TransientEngineError

ENV_ENDPOINT = "PODCAST_EDGE_ENDPOINT"
SAMPLE_RATE = 24000
_TICKS = 10_000_000
_VOICE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})+-[A-Za-z]+Neural$")
_DEFAULT_VOICES = {"zh": "zh-CN-YunxiNeural", "en": "en-US-AndrewMultilingualNeural",
                   "ja": "ja-JP-KeitaNeural", "de": "de-DE-ConradNeural", "fr": "fr-FR-HenriNeural",
                   "es": "es-ES-AlvaroNeural", "ko": "ko-KR-InJoonNeural"}
_PATH = "/consumer/speech/synthesize/readaloud"
_TRANSIENT_STATUS = {403, 408, 425, 429, 500, 502, 503, 504}


def library_version() -> str:
    """The installed edge-tts version (part of every cache key)."""
    try:
        return metadata.version("edge-tts")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def voices_url_for(endpoint: str) -> str:
    """The voice-list URL on the same host as a websocket *endpoint*."""
    import edge_tts.constants

    parts = urlsplit(endpoint)
    scheme = "https" if parts.scheme == "wss" else "http"
    token = edge_tts.constants.TRUSTED_CLIENT_TOKEN
    return urlunsplit((scheme, parts.netloc, f"{_PATH}/voices/list", f"trustedclienttoken={token}", ""))


class EdgeEngine(Engine):
    """edge-tts neural voices (needs the service, or a relay or fake of it).

    No request limit of ours: edge-tts itself cuts a long text into requests the service
    accepts and joins their audio and sentence boundaries.
    """

    name = "edge"
    options = (
        Option("endpoint", str, None, "websocket URL of a relay or fake of the service "
               f"(${ENV_ENDPOINT} wins over it)"),
        Option("connect_timeout_s", float, 10.0, "seconds to wait for the connection", 1, 600),
        Option("receive_timeout_s", float, 30.0, "seconds to wait for the next piece of audio (for the "
               "first: after the connect timeout)", 1, 600),
        Option("probe_timeout_s", float, 4.0, "seconds the probe before a build waits for the "
               "voice list before falling back", 0.1, 600),
    )
    capabilities = Capabilities(sentence_marks=True, concurrency=4)

    def __init__(self, **options: Any) -> None:
        values = self.configure(options)
        self._configured_endpoint = values.text("endpoint")
        self.connect_timeout = max(1, round(values.number("connect_timeout_s")))
        self.receive_timeout = max(1, round(values.number("receive_timeout_s")))
        self.probe_timeout = values.number("probe_timeout_s")
        self._voice_lists: dict[str | None, list[VoiceInfo]] = {}
        self._probes: dict[str | None, str | None] = {}

    @property
    def endpoint(self) -> str | None:
        """``$PODCAST_EDGE_ENDPOINT``, else the show's ``edge.endpoint``, else None (the service)."""
        endpoint = os.environ.get(ENV_ENDPOINT) or self._configured_endpoint
        if endpoint and urlsplit(endpoint).scheme not in ("ws", "wss"):
            raise EngineUnavailable(f"edge endpoint must be a ws:// or wss:// URL, got {endpoint!r}")
        return endpoint

    @property
    def _voices(self) -> list[VoiceInfo] | None:
        return self._voice_lists.get(os.environ.get(ENV_ENDPOINT) or self._configured_endpoint)

    def config_problem(self) -> str | None:
        """What is wrong with this engine's settings (the endpoint), or None."""
        try:
            _ = self.endpoint
        except EngineUnavailable as exc:
            source = f"${ENV_ENDPOINT}" if os.environ.get(ENV_ENDPOINT) else "edge.endpoint"
            return f"{source}: {exc}"
        return None

    # -- where to talk to -------------------------------------------------------------
    def _point_library(self) -> None:
        """Aim edge-tts at our endpoint (the library reads these module constants per call)."""
        import edge_tts.communicate
        import edge_tts.constants
        import edge_tts.voices

        endpoint = self.endpoint
        if endpoint:
            wss = endpoint if "?" in endpoint else f"{endpoint}?"
            edge_tts.communicate.WSS_URL = wss  # type: ignore[attr-defined]
            edge_tts.voices.VOICE_LIST = voices_url_for(endpoint)  # type: ignore[attr-defined]
        else:
            edge_tts.communicate.WSS_URL = edge_tts.constants.WSS_URL  # type: ignore[attr-defined]
            edge_tts.voices.VOICE_LIST = edge_tts.constants.VOICE_LIST  # type: ignore[attr-defined]

    # -- Engine protocol --------------------------------------------------------------
    def version(self) -> str:
        """``edge-tts <library version>``."""
        return f"edge-tts {library_version()}"

    def default_voice(self, language: str) -> str:
        """A neural voice for *language*."""
        primary = language.split("-")[0].lower()
        return _DEFAULT_VOICES.get(primary, _DEFAULT_VOICES["en"])

    def check_voice(self, voice: str) -> str | None:
        """Check the name's form offline, and against the service's list when it was fetched."""
        if not _VOICE_RE.match(voice):
            return (f"{voice!r} is not an edge voice name (like zh-CN-YunxiNeural); "
                    "see `podcast voices --engine edge`")
        if self._voices and voice not in {v.name for v in self._voices}:
            return f"the edge service has no voice {voice!r}; see `podcast voices --engine edge`"
        return None

    def probe(self) -> str | None:
        """One short request for the voice list: None when the service answers, else why not.

        The answer is kept for the rest of the process (per endpoint): a folder build probes once.
        """
        try:
            endpoint = self.endpoint
        except EngineUnavailable as exc:
            return str(exc)
        if endpoint not in self._probes:
            self._probes[endpoint] = self._probe()
        return self._probes[endpoint]

    def _probe(self) -> str | None:
        try:
            endpoint = self.endpoint
            found = asyncio.run(asyncio.wait_for(self._fetch_voices(), self.probe_timeout))
            self._voice_lists[endpoint] = found
        except EngineUnavailable as exc:
            return str(exc)
        except TimeoutError:
            return f"no answer from the edge service within {self.probe_timeout:g} s"
        except EngineError as exc:
            return str(exc)
        return None

    def voices(self) -> list[VoiceInfo]:
        """The service's voices (raises EngineUnavailable when it cannot be reached)."""
        if self._voices is None:
            reason = self._probe()
            if reason:
                raise EngineUnavailable(f"cannot list edge voices: {reason}")
        return list(self._voices or [])

    async def _fetch_voices(self) -> list[VoiceInfo]:
        import aiohttp
        import edge_tts

        self._point_library()
        try:
            raw = await edge_tts.list_voices()
        except aiohttp.ClientResponseError as exc:
            raise EngineError(f"the edge voice list answered HTTP {exc.status}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise EngineError(f"cannot reach the edge service: {_describe(exc)}") from exc
        except Exception as exc:  # the library choked on the answer: not JSON, not a list, ...
            raise EngineError(f"the edge voice list is malformed ({_describe(exc)})") from exc
        return parse_voices(raw)

    async def synthesize(self, request: Request) -> Clip:
        """Speak *request*; every failure is an :class:`EngineError` whose ``kind`` says how it
        failed (:class:`TransientEngineError` for what a retry may fix)."""
        import edge_tts
        import numpy as np

        from podcast.audio.ffmpeg import decode_bytes
        from podcast.errors import AudioError

        self._point_library()
        voice = request.voice
        communicate = edge_tts.Communicate(
            request.text, voice.name, rate=voice.rate, volume=voice.volume, pitch=voice.pitch,
            boundary="SentenceBoundary", connect_timeout=self.connect_timeout,
            receive_timeout=self.receive_timeout)
        mp3 = bytearray()
        boundaries: list[tuple[int, int, str]] = []

        def take(chunk: Any) -> None:
            if chunk["type"] == "audio":
                mp3.extend(chunk["data"])
            elif chunk["type"] == "SentenceBoundary":
                boundaries.append(_boundary(chunk))

        await self._receive(communicate, take)
        if not mp3:
            raise TransientEngineError("edge sent no audio", kind="no audio")
        if not _looks_like_mp3(mp3):
            raise TransientEngineError(f"edge sent audio that is not MP3 (it starts with {bytes(mp3[:8])!r})",
                                       kind="not MP3")
        try:
            samples = (await asyncio.to_thread(decode_bytes, bytes(mp3), SAMPLE_RATE, 1))[:, 0]
        except AudioError as exc:
            lines = [line for line in str(exc).splitlines() if line.strip()]
            raise TransientEngineError(f"edge sent audio that does not decode as MP3 ({lines[-1].strip()})",
                                       kind="not MP3") from exc
        pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)
        # A service that closes early (no turn.end) makes edge-tts return partial audio silently:
        # the boundaries must cover the text, and the audio must last as long as they say.
        covered = coverage(request.sentences, boundaries)
        if covered < 0.9:
            raise TransientEngineError(f"edge audio was cut short: it covers {covered:.0%} of the text",
                                       kind="cut short")
        spoken_s = max((o + d for o, d, _ in boundaries), default=0) / _TICKS
        if len(pcm) / SAMPLE_RATE < 0.95 * spoken_s - 0.1:
            raise TransientEngineError(f"edge audio was cut short: {len(pcm) / SAMPLE_RATE:.1f} s of "
                                       f"{spoken_s:.1f} s", kind="cut short")
        return Clip(pcm, SAMPLE_RATE, sentence_marks(request.sentences, boundaries, SAMPLE_RATE))

    async def _receive(self, communicate: Any, take: Callable[[Any], None]) -> None:
        """Run edge-tts's stream, passing each piece to *take*, with the receive timeout held.

        edge-tts gives aiohttp no receive timeout for the websocket (``sock_read`` ends at the
        handshake), so a service that accepts the connection and then says nothing would hold
        the request until the build's own timeout. Here the first piece must come within the
        connect and receive timeouts, each later one within the receive timeout; then the
        stream is cancelled, and cancelled again if its websocket waits for a closing handshake
        that the service never answers.
        """
        loop = asyncio.get_running_loop()
        last = loop.time()
        started = False

        async def pump() -> None:
            nonlocal last, started
            async for chunk in communicate.stream():
                take(chunk)
                last, started = loop.time(), True

        task = asyncio.create_task(pump())
        task.add_done_callback(_retrieve)
        try:
            while not task.done():
                limit = self.receive_timeout + (0 if started else self.connect_timeout)
                await asyncio.wait({task}, timeout=max(0.0, last + limit - loop.time()))
                if not task.done() and loop.time() - last >= limit:
                    raise TransientEngineError(
                        f"edge stopped sending for {limit} s (receive_timeout_s)" if started else
                        f"edge sent nothing for {limit} s (connect_timeout_s + receive_timeout_s)",
                        kind="timeout")
        finally:
            await _stop(task)
        if task.cancelled():  # not by us: we only cancel it on the way out
            raise TransientEngineError("edge connection failed: the stream was cancelled", kind="connection")
        failure = task.exception()
        if failure is not None:
            raise _classify(failure) from failure


def parse_voices(raw: object) -> list[VoiceInfo]:
    """The voices of the service's voice-list answer; EngineError when it is not a list of
    entries with a ``ShortName`` and a ``Locale``."""
    if not isinstance(raw, list):
        raise EngineError(f"the edge voice list is malformed (a JSON {type(raw).__name__}, not a list)")
    found = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise EngineError(f"the edge voice list is malformed (entry {i} is a {type(entry).__name__})")
        for key in ("ShortName", "Locale"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise EngineError(f"the edge voice list is malformed (entry {i} has no {key})")
        found.append(VoiceInfo(name=entry["ShortName"], language=entry["Locale"],
                               gender=str(entry.get("Gender", "")),
                               description=str(entry.get("FriendlyName", ""))))
    return found


def _boundary(chunk: Any) -> tuple[int, int, str]:
    """A sentence boundary of the stream: offset and duration in ticks, and its text."""
    offset, duration, text = chunk["offset"], chunk["duration"], chunk["text"]
    numbers = all(isinstance(n, int) and 0 <= n < 2**53 for n in (offset, duration))
    if not numbers or not isinstance(text, str):
        raise ValueError(f"a sentence boundary with offset {offset!r}, duration {duration!r}, text {text!r}")
    return offset, duration, text


def _looks_like_mp3(data: bytearray) -> bool:
    """Whether *data* starts as an MP3 stream does: an ID3 tag or an MPEG audio frame header."""
    return data[:3] == b"ID3" or (len(data) >= 4 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


_CLOSE_GRACE_S = 1.0
"""How long a cancelled stream may take to close its websocket before it is cancelled again."""


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel *task* if it still runs and wait (boundedly) until it has let go of its connection."""
    for _ in range(2):
        if task.done():
            return
        task.cancel()
        await asyncio.wait({task}, timeout=_CLOSE_GRACE_S)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a finished stream's failure as seen (it is raised, classified, or moot)."""
    if not task.cancelled():
        task.exception()


def _classify(exc: BaseException) -> EngineError:
    """What a failure of edge-tts's stream means: an EngineError with its kind."""
    import aiohttp
    import edge_tts.exceptions

    if isinstance(exc, aiohttp.ClientResponseError):  # the handshake (a WSServerHandshakeError)
        error = TransientEngineError if exc.status in _TRANSIENT_STATUS else EngineError
        return error(f"edge handshake answered HTTP {exc.status}", kind=f"HTTP {exc.status}")
    if isinstance(exc, edge_tts.exceptions.NoAudioReceived):
        return TransientEngineError("edge sent no audio", kind="no audio")
    if isinstance(exc, TimeoutError):
        return TransientEngineError(f"edge connection timed out: {_describe(exc)}", kind="timeout")
    if isinstance(exc, aiohttp.ClientError | OSError | edge_tts.exceptions.WebSocketError):
        return TransientEngineError(f"edge connection failed: {_describe(exc)}", kind="connection")
    # UnexpectedResponse, UnknownResponse, or the library choking on a frame (ValueError,
    # KeyError, TypeError, ...): the service answered something that is not the protocol
    return TransientEngineError(f"edge sent a malformed answer ({_describe(exc)})", kind="malformed answer")


def _describe(exc: BaseException) -> str:
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        err = exc.os_error
        if isinstance(err, socket.gaierror):
            return f"cannot resolve {exc.host} (no network or no DNS here)"
        reason = os.strerror(err.errno) if err.errno and err.errno > 0 else (err.strerror or str(err))
        return f"cannot connect to {exc.host}:{exc.port} ({reason})"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def coverage(sentences: tuple[str, ...], boundaries: list[tuple[int, int, str]]) -> float:
    """The share of the request's letters that the service's sentence boundaries spoke."""
    wanted = sum(len(_letters(s)) for s in sentences)
    spoken = sum(len(_letters(text)) for _, _, text in boundaries)
    return 1.0 if wanted == 0 else min(1.0, spoken / wanted)


def sentence_marks(sentences: tuple[str, ...], boundaries: list[tuple[int, int, str]],
                   rate: int) -> tuple[int, ...]:
    """Sample offsets where our sentences start, from the service's sentence boundaries.

    The service splits sentences its own way, so both sides are compared by their letters
    and digits only: each of our sentences starts inside the boundary that covers its first
    letter, at a point interpolated by letter count.
    """
    if not boundaries:
        return ()
    starts, pos = [], 0
    for s in sentences:
        starts.append(pos)
        pos += len(_letters(s))
    spans, pos = [], 0
    for offset, duration, text in boundaries:
        n = len(_letters(text))
        spans.append((pos, n, offset, duration))
        pos += n
    marks: list[int] = []
    for start in starts:
        chosen = spans[0]
        for span in spans:
            if span[0] <= start:
                chosen = span
        begin, n, offset, duration = chosen
        inside = min(1.0, (start - begin) / n) if n else 0.0
        ticks = offset + inside * duration
        marks.append(max(marks[-1] if marks else 0, round(ticks * rate / _TICKS)))
    return tuple(marks)
