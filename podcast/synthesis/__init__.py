"""Synthesis: running an engine over the script's requests, with the cache and clip checks."""
