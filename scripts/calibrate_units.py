#!/usr/bin/env python3
"""Measure how fast espeak-ng speaks each writing system, to set the weights of
``podcast/speech/units.py``.

Each sample of ``podcast.testing.writing_systems`` (two sentences per script) is normalized
and spoken by espeak-ng at the normal rate, in the default voice of its language, as a build
would; the clip's length (untrimmed, as the clip check sees it) is measured. The reference rate
is the mean units per second of the English and Mandarin samples, whose weights (a Latin letter
a third of a unit, a Han character one) are fixed. For every sample the script prints its
units per second with the current weights and the weight of its script that would give the
reference rate exactly; round that and put it in ``READINGS``.
Usage, from the repository root: python scripts/calibrate_units.py
"""

import dataclasses

from podcast.engines.base import Request, Voice
from podcast.engines.espeak import EspeakEngine
from podcast.speech import units
from podcast.speech.normalize import speak
from podcast.testing.writing_systems import REFERENCES, SAMPLES, Sample


def measure(engine: EspeakEngine, sample: Sample) -> tuple[tuple[str, ...], float]:
    """The spoken sentences of *sample* and how many seconds espeak takes to say them."""
    spoken = tuple(speak(s, sample.language, engine="espeak", letters=engine.letter_names)
                   for s in sample.sentences)
    voice = Voice(engine.default_voice(sample.language))
    clip = engine.synthesize_sync(Request(spoken, voice, sample.language))
    return spoken, clip.duration_s


def units_with(script: str, weight: float, sentences: tuple[str, ...]) -> float:
    """Units of *sentences* when *script*'s letters weigh *weight*."""
    saved = units.READINGS.get(script)
    units.READINGS[script] = dataclasses.replace(units.reading(script), weight=weight)
    try:
        return sum(units.spoken_units(s) for s in sentences)
    finally:
        if saved is None:
            del units.READINGS[script]
        else:
            units.READINGS[script] = saved


def weight_for(script: str, sentences: tuple[str, ...], seconds: float, rate: float) -> float:
    """The weight of *script* that makes *sentences* take *rate* units a second (bisection)."""
    low, high = 0.01, 5.0
    for _ in range(40):
        mid = (low + high) / 2
        if units_with(script, mid, sentences) / seconds < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def main() -> int:
    engine = EspeakEngine()
    measured = [(sample, *measure(engine, sample)) for sample in (*REFERENCES, *SAMPLES) if sample.calibrates]
    rates = {s.name: sum(units.spoken_units(x) for x in spoken) / seconds for s, spoken, seconds in measured}
    reference = sum(rates[s.name] for s in REFERENCES) / len(REFERENCES)
    print(f"reference: {reference:.2f} units/s (REFERENCE_UNITS_PER_S = {units.REFERENCE_UNITS_PER_S})")
    print(f"{'sample':<16} {'script':<11} {'seconds':>7} {'units/s':>7} {'weight':>6} {'fits':>6}")
    for sample, spoken, seconds in measured:
        weight = units.reading(sample.script).weight
        fits = weight_for(sample.script, spoken, seconds, reference)
        print(f"{sample.name:<16} {sample.script:<11} {seconds:7.2f} {rates[sample.name]:7.2f} "
              f"{weight:6.3f} {fits:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
