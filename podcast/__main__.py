"""Run the CLI as ``python -m podcast``."""

from podcast.cli import main

main()
