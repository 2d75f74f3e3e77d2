"""The languages notis writes in, Swedish first. A module of its own: the deployed page handler reads it at
cold start, and importing it costs nothing (no dataclasses, no YAML)."""

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
