"""Test helpers: local fakes of the online services the pipeline talks to."""
