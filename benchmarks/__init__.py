"""Benchmarks of the producer on this machine, written to ``docs/benchmarks.md``.

    pip install -e ".[dev,bench]"
    python -m benchmarks              # full run (30-40 minutes on 2 CPUs): docs/benchmarks.{json,md}
    python -m benchmarks --quick      # smoke run: 1 repeat, short episodes, written to a temp folder
    python -m benchmarks --render docs/benchmarks.json   # the report again from stored results

Every case runs the real CLI (``python -m podcast ...``) in a subprocess, started from a small
launcher that reports its wall time, CPU time and peak memory (``wait4``). Where the time goes
inside a build comes from the build itself: ``podcast build --json`` reports its stages' timings
and the encoder's counters (``BuildReport.timings``). Nothing in ``podcast/`` is patched or copied.

One module per case: :mod:`~benchmarks.sample` (the sample issue: cold, cached, edited, preview),
:mod:`~benchmarks.assembly` (10 to 90-minute episodes against the ffmpeg floor and a naive pydub
loop, :mod:`~benchmarks.naive`), :mod:`~benchmarks.edge` (the edge engine against the local fake
service), :mod:`~benchmarks.startup`. :mod:`~benchmarks.harness` measures; the results are one JSON
document, judged by :mod:`~benchmarks.targets` and rendered by :mod:`~benchmarks.render` through
the ``report.md.j2`` template.
"""
