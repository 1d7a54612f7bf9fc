"""The version of playml: written here only (pyproject.toml reads it)."""

__version__ = "0.2.0.dev0"
