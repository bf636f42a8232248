"""What a CLI command loads: run it in a fresh interpreter and report the modules it imported and
whether the espeak-ng library got mapped (for the startup test and the startup benchmark)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
from podcast.cli import app
sys.argv = ["podcast", *sys.argv[1:]]
try:
    app()
except SystemExit:
    pass
try:
    maps = open("/proc/self/maps").read()
except OSError:
    maps = ""
print(json.dumps({"modules": sorted(sys.modules), "libespeak": "libespeak" in maps}))
"""


def loaded(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[set[str], bool]:
    """The modules ``podcast ARGS`` has imported when done, and whether libespeak-ng is mapped."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return set(report["modules"]), bool(report["libespeak"])
