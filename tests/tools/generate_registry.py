"""Write opendalfs/registry.py's class list and pyproject's entry points from the opendal wheel.

Run it after upgrading opendal: ``python tests/tools/generate_registry.py``.
tests/test_registry.py fails while either file is out of date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from opendal.services import Scheme

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "opendalfs" / "registry.py"
PYPROJECT = ROOT / "pyproject.toml"
BEGIN, END = "# BEGIN GENERATED", "# END GENERATED"


def services() -> list[tuple[str, str]]:
    """(class name, scheme) for every scheme compiled into the installed wheel."""
    members = ((name, getattr(Scheme, name)) for name in dir(Scheme) if name[:1].isupper())
    pairs = [(f"{name}FileSystem", m.value) for name, m in members if isinstance(m, Scheme)]
    return sorted(pairs, key=lambda pair: pair[1])


def registry_block() -> str:
    lines = [BEGIN + " by tests/tools/generate_registry.py: do not edit by hand"]
    for cls, scheme in services():
        lines += [
            "",
            "",
            f"class {cls}(OpendalFileSystem):",
            f'    """OpenDAL\'s ``{scheme}`` service as ``opendal+{scheme}://``."""',
            "",
            f'    scheme = "{scheme}"',
            f'    protocol = "opendal+{scheme}"',
        ]
    lines += ["", "", "SERVICE_CLASSES: dict[str, type[OpendalFileSystem]] = {"]
    lines += [f'    "{scheme}": {cls},' for cls, scheme in services()]
    lines += ["}", END]
    return "\n".join(lines)


def entry_points_block() -> str:
    lines = [BEGIN + " by tests/tools/generate_registry.py: do not edit by hand"]
    lines += [f'"opendal+{s}" = "opendalfs.registry:{c}"' for c, s in services()]
    lines += [END]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"no {BEGIN} ... {END} block found")
    return pattern.sub(lambda _: block, text, count=1)


def main() -> int:
    REGISTRY.write_text(replace_block(REGISTRY.read_text(), registry_block()))
    PYPROJECT.write_text(replace_block(PYPROJECT.read_text(), entry_points_block()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
