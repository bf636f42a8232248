"""What decides whether an episode is up to date: a hash of everything that goes into its
outputs (settings and content without path spellings, the clips by their cache keys, the
assets and templates by content)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from podcast import __version__
from podcast.engines import registry
from podcast.engines.base import Engine
from podcast.input.project import Project
from podcast.input.show import PACKAGE_DIR
from podcast.publish.outputs import file_sha256
from podcast.synthesis.run import SegmentPlan, plan


def input_fingerprint(project: Project, engine: Engine, plans: list[SegmentPlan]) -> str:
    """A hash of everything that goes into the outputs (the clips by their cache keys)."""
    show, issue = project.show, project.issue
    # settings and content, without any path spelling (files are hashed by content below)
    settings = replace(show, file=None, positions={}, cover=None, templates=None, lexicon=None,
                       music=replace(show.music, intro=None, outro=None),
                       output=replace(show.output, dir=None))
    content = replace(issue, file=Path(issue.file.name))
    digest = hashlib.sha256()
    for part in (__version__, engine.name, engine.version(), repr(settings), repr(content),
                 repr(project.script), *[p.key for plan_ in plans for p in plan_.parts]):
        digest.update(part.encode() + b"\0")
    assets = [show.music.intro, show.music.outro, show.cover]
    folders = [show.templates, PACKAGE_DIR / "templates" / "notes"]
    assets += [f for folder in folders if folder for f in sorted(folder.glob("*.j2"))]
    for asset in assets:
        digest.update(file_sha256(asset).encode() if asset and asset.is_file() else b"-")
    return digest.hexdigest()


def first_choice_fingerprint(project: Project, chosen: str | None, used: Engine) -> str:
    """Fingerprint with the first-choice engine (``--engine`` *chosen*, else the show's), so a
    fallback build keeps episodes built with it; "" when *used* is that engine."""
    name = chosen or project.show.engine
    if name == used.name:
        return ""
    engine = registry.get(name, **project.show.options_for(name))
    voice = project.show.voice_for(engine, project.script.language)
    plans = plan(project.script, engine, voice, lexicon=project.lexicon)
    return input_fingerprint(project, engine, plans)
