"""Random answers for the fake edge service's ``random`` fault: websocket frames, JSON and audio
that look more or less like the protocol, from a seeded generator and bounded in number and size.

Used to check that whatever a service sends, a build ends in a clip, a clean one-line error or
the show's fallback, never a traceback.
"""

from __future__ import annotations

import json
import random
from typing import Any

from podcast.testing.edge_speech import audio_message, text_message

MAX_MESSAGES = 8
"""Messages in one random answer at most."""
_PATHS = ("turn.start", "response", "audio.metadata", "turn.end", "audio", "speech.config", "", "x" * 40)
_MP3_HEADER = b"\xff\xf3\x64\xc4"  # an MPEG-2 layer III frame header (24 kHz, 48 kbps, mono)

Message = str | bytes | None
"""A text frame, a binary frame, or None: close the connection."""


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value, at most three levels deep."""
    roll = rng.randrange(8 if depth < 3 else 5)
    if roll == 0:
        return None
    if roll == 1:
        return rng.choice([True, False])
    if roll == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, rng.randint(-10**9, 10**9)])
    if roll == 3:
        return rng.choice([0.5, -1e300, 1e300, rng.random()])
    if roll == 4:
        return "".join(rng.choice("aZ9 .,<&>\"'\\\n\u00e9\u4e2d\U0001f600") for _ in range(rng.randrange(12)))
    if roll in (5, 6):
        keys = ["Metadata", "Type", "Data", "Offset", "Duration", "text", "Text", "ShortName", "Locale", "k"]
        return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(4))}
    return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def _metadata(rng: random.Random) -> Any:
    """An ``audio.metadata`` body that is almost right: some field missing, of the wrong type or
    out of range."""
    text = {"Text": "Hello.", "Length": 6, "BoundaryType": "SentenceBoundary"}
    data: dict[str, Any] = {"Offset": rng.choice([0, -5, 10**18, "1", 1.5, None]),
                            "Duration": rng.choice([0, 1_000_000, -1, "x", None]),
                            "text": rng.choice([text, {"Text": 7}, {}, "Hello.", None])}
    for key in list(data):
        if rng.random() < 0.2:
            del data[key]
    entry = {"Type": rng.choice(["SentenceBoundary", "WordBoundary", "SessionEnd", "Other", 3]),
             "Data": data}
    return rng.choice([{"Metadata": [entry]}, {"Metadata": []}, {"Metadata": entry}, {"metadata": [entry]},
                       [entry]])


def _text(rng: random.Random, request_id: str) -> str:
    roll = rng.randrange(4)
    if roll == 0:  # not headers at all
        return "".join(rng.choice("ab:\r\n{}") for _ in range(rng.randrange(30)))
    path = rng.choice(_PATHS)
    body = _metadata(rng) if roll == 1 else random_json(rng)
    message = text_message(request_id, path, body)
    return message if roll < 3 else message[: rng.randrange(len(message) + 1)]


def _binary(rng: random.Random, request_id: str) -> bytes:
    roll = rng.randrange(6)
    noise = rng.randbytes(rng.randrange(400))
    if roll == 0:  # anything, even shorter than the header length
        return noise[: rng.randrange(4)] if rng.random() < 0.3 else noise
    if roll == 1:  # a header length past the end
        return (len(noise) + 10).to_bytes(2, "big") + noise
    if roll == 2:  # headers without a colon
        head = b"X-RequestId " + request_id.encode() + b"\r\nPath audio\r\n"
        return len(head).to_bytes(2, "big") + head + noise
    if roll == 3:  # audio of noise, maybe behind an MP3 frame header
        return audio_message(request_id, "S", (_MP3_HEADER if rng.random() < 0.5 else b"") + noise + b"\0")
    if roll == 4:  # another path, or data without a content type
        head = rng.choice([b"Path:video\r\n", b"X-RequestId:1\r\nPath:audio\r\n"])
        return len(head).to_bytes(2, "big") + head + noise + b"\0"
    return audio_message(request_id, "S", b"")  # the end of a stream


def random_answer(rng: random.Random, request_id: str) -> list[Message]:
    """One to :data:`MAX_MESSAGES` random frames for a turn, then ``turn.end`` or a close (or, one
    time in ten, silence)."""
    messages: list[Message] = []
    for _ in range(rng.randint(1, MAX_MESSAGES)):
        messages.append(_text(rng, request_id) if rng.random() < 0.5 else _binary(rng, request_id))
    ending = rng.random()
    if ending < 0.45:
        messages.append(text_message(request_id, "turn.end", {}))
    elif ending < 0.9:
        messages.append(None)
    return messages


def random_voice_list(rng: random.Random, voices: list[dict[str, Any]]) -> str:
    """A voice-list answer that is not quite a list of voices (or not JSON at all)."""
    roll = rng.randrange(5)
    if roll == 0:
        return "".join(rng.choice("[]{},:\"a1 ") for _ in range(rng.randrange(40)))
    if roll == 1:
        return json.dumps(random_json(rng))
    entries: list[Any] = [dict(v) for v in voices[: rng.randrange(len(voices) + 1)]]
    for entry in entries:
        for key in ("ShortName", "Locale", "Gender", "FriendlyName"):
            if rng.random() < 0.15:
                entry[key] = random_json(rng, 2)
            elif rng.random() < 0.1:
                del entry[key]
    if roll == 3:
        entries.insert(rng.randrange(len(entries) + 1), random_json(rng, 2))
    return json.dumps({"voices": entries} if roll == 4 else entries)
