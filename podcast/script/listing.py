"""``podcast script``: the narration exactly as the engine will receive it.

Each segment's text after templates and speech normalization, with the voice it will use;
explicit pauses are shown as ``[pause Nms]``. Nothing is synthesized; without ``--engine``,
the show's engine is probed once (as a build would) to know whether its fallback applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from podcast.build import BuildOptions
from podcast.engines.select import choose_engine, engine_for
from podcast.input.project import load
from podcast.report import Silent
from podcast.synthesis.run import plan


@dataclass(frozen=True)
class Line:
    """One segment as it will be spoken."""

    id: str
    chapter: str
    voice: str
    text: str

    def as_json(self) -> dict[str, str]:
        """The JSON form: id, chapter, voice, text."""
        return {"id": self.id, "chapter": self.chapter, "voice": self.voice, "text": self.text}


def narration(issue_file: Path, engine_name: str | None = None) -> list[Line]:
    """The spoken script of *issue_file* for the show's engine (or *engine_name*)."""
    project, _ = load(issue_file, engine_name)
    show = project.show
    if engine_name:
        engine = engine_for(show, engine_name)
        voice = show.voice_for(engine, project.script.language)
    else:  # the engine a build would use now: the show's, or its fallback when that is unreachable
        engine, voice, _ = choose_engine(project, BuildOptions(), Silent())
    lines = []
    for p in plan(project.script, engine, voice, lexicon=project.lexicon):
        pieces = []
        for part in p.parts:
            pieces.append(" ".join(part.request.sentences))
            if part.chunk.pause_after_ms:
                pieces.append(f"[pause {part.chunk.pause_after_ms}ms]")
        voices = sorted({part.request.voice.name for part in p.parts}) or [voice.name]
        lines.append(Line(p.segment.id, p.segment.chapter, ", ".join(voices), " ".join(pieces)))
    return lines


def to_text(lines: list[Line]) -> str:
    """Plain text: a header line per segment, then its text."""
    return "".join(f"{i}. [{ln.id}] {ln.chapter} ({ln.voice})\n{ln.text}\n\n"
                   for i, ln in enumerate(lines, start=1))


def to_markdown(lines: list[Line]) -> str:
    """Markdown for proofreading."""
    return "".join(f"## {ln.chapter}\n\n*{ln.id} · {ln.voice}*\n\n{ln.text}\n\n" for ln in lines)
