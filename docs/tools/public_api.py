"""mkdocs hook: every public name has a docstring and a place on docs/api.md.

mkdocstrings renders what the API page points it at, and says nothing of a public
name nobody pointed it at, or of a docstring that is missing. This hook fails the
build on both. The public names are the ``__all__`` of the modules below, read at
run time (``opendalfs.registry``'s is built from its table of services); the
docstrings are read as the site reads them, by griffe.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import griffe
from mkdocs.exceptions import PluginError

#: The modules whose ``__all__`` is opendalfs' public surface.
PUBLIC_MODULES = (
    "opendalfs",
    "opendalfs.core",
    "opendalfs.file",
    "opendalfs.registry",
    "opendalfs.errors",
)
API_PAGE = "api.md"

_ANCHOR = re.compile(r'\bid="([^"]+)"')
_api_anchors: set[str] = set()


def public_names() -> dict[str, set[str]]:
    """Each public name's dotted path, with every path the API page may give it.

    ``opendalfs.register`` is the same function as ``opendalfs.registry.register``;
    documenting it under either name covers both.
    """
    names: dict[str, set[str]] = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            paths = {f"{module_name}.{name}"}
            if hasattr(obj, "__qualname__") and hasattr(obj, "__module__"):
                paths.add(f"{obj.__module__}.{obj.__qualname__}")
                # Re-exported from a private module: its public home.
                paths.update(f"{m}.{obj.__name__}" for m in PUBLIC_MODULES)
            names[f"{module_name}.{name}"] = paths
    return names


def _undocumented(package: griffe.Module, path: str) -> list[str]:
    """``path`` and its public methods that have no docstring, as griffe reads them."""
    obj: Any = package[path.removeprefix("opendalfs.")]
    missing = [] if obj.docstring and obj.docstring.value.strip() else [path]
    if obj.is_class:
        for member in obj.members.values():
            method = member.is_function or "property" in member.labels
            if method and not member.name.startswith("_") and not member.docstring:
                missing.append(f"{path}.{member.name}")
    return missing


def on_post_page(output: str, page: Any, config: Any) -> str:
    if page.file.src_uri == API_PAGE:
        _api_anchors.update(_ANCHOR.findall(output))
    return output


def on_post_build(config: Any) -> None:
    root = Path(config.config_file_path).parent
    package = griffe.load("opendalfs", search_paths=[str(root)])
    problems = []
    for path, anchors in public_names().items():
        problems += [f"{name} has no docstring" for name in _undocumented(package, path)]
        if not anchors & _api_anchors:
            problems.append(f"{path} is not on docs/{API_PAGE}")
    if problems:
        raise PluginError("public names the API reference fails:\n  " + "\n  ".join(problems))
