"""Speech: written text into spoken text (numbers, symbols, lexicon) and engine requests."""
