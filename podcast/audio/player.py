"""Playing a file through an audio player found on this machine (``podcast preview --play``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from podcast.errors import PodcastError

PLAYERS = ("ffplay", "mpv", "afplay", "paplay", "aplay", "play", "mpg123", "cvlc")


def find_player() -> list[str] | None:
    """A command line that plays an audio file on this machine, or None."""
    for name in PLAYERS:
        exe = shutil.which(name)
        if exe:
            extra = {"ffplay": ["-nodisp", "-autoexit", "-loglevel", "quiet"], "mpv": ["--really-quiet"],
                     "mpg123": ["-q"], "cvlc": ["--play-and-exit"]}.get(name, [])
            return [exe, *extra]
    return None


def play(path: Path) -> str:
    """Play *path* through a player found on the machine; what was used, or raise."""
    command = find_player()
    if command is None:
        raise PodcastError(f"no audio player found (looked for {', '.join(PLAYERS)}); "
                           f"the preview is at {path}")
    subprocess.run([*command, str(path)], check=False)
    return Path(command[0]).name
