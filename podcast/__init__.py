"""podcast: text-to-speech podcast production, from one YAML file per issue to a finished episode."""

__version__ = "0.1.0"
