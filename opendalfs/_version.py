"""The package version, read by the build backend and by ``opendalfs.__version__``."""

__version__ = "0.3.0.dev0"
"""This release's version (PEP 440); CHANGELOG.md says what each one changed."""
