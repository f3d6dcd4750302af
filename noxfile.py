"""Developer and CI tasks: ``python3 -m nox -l`` lists them.

``nox`` with no session runs lint and the tests on the default Python. CI runs
``.ci/run``, which adds the build check.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nox

ROOT = Path(__file__).parent
QUICKSTART = ROOT / "examples" / "quickstart.py"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")

# Run by the build session inside the clean virtualenv.
_IMPORTED_FROM_VENV = (
    "import sys, opendalfs; "
    "assert opendalfs.__file__.startswith(sys.prefix), opendalfs.__file__; "
    "print('opendalfs', opendalfs.__version__, 'from', opendalfs.__file__)"
)

nox.needs_version = ">=2024.4"
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


def _run_tests(session: nox.Session) -> None:
    """Run the test suite on one Python; nox skips a version that is not installed.

    The package is installed editable, with the ``demo`` extra because the
    downstream tests drive pandas, pyarrow and dask through opendalfs. Arguments
    after ``--`` replace the default ``tests`` path, e.g.
    ``nox -s tests -- tests/test_core.py -x``.
    """
    session.install("-e", ".[test,demo,servers,integration]")
    if session.posargs:
        session.run("pytest", *session.posargs)
        return
    # The service matrix runs first, in a process of its own. Late in a full run it
    # hung twice (FTP, once MySQL): a write first failed with OpenDAL's "connection
    # request: timeout" (its connection pool exhausted), then the next call never
    # returned. The cause is not found yet (dropped writers were ruled out); the
    # issue notes have the evidence. pytest-timeout bounds any hang.
    session.run("pytest", "tests/test_service_matrix.py")
    session.run("pytest", "tests", "--ignore=tests/test_service_matrix.py")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite on the Python that runs nox (the README's test command)."""
    _run_tests(session)


# One session per supported Python, named tests-3.10 ... tests-3.13 so that
# ``nox -s tests`` stays a single run. nox skips a version that is not installed.
for _python in PYTHONS:
    nox.session(python=_python, name=f"tests-{_python}")(_run_tests)


@nox.session
def lint(session: nox.Session) -> None:
    """Check formatting and lint rules; ruff's settings live in pyproject.toml."""
    session.install("ruff")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")


@nox.session
def demo(session: nox.Session) -> None:
    """Run examples/quickstart.py: pandas writes Parquet, dask reads it back."""
    session.install(".[demo]")
    session.run("python", str(QUICKSTART))


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist and wheel, then prove the wheel works on its own.

    The wheel goes into a fresh virtualenv that has never seen the source tree, and
    the demo runs from a scratch directory, so a file missing from the wheel (or an
    entry point that does not resolve) fails here rather than for a user.
    """
    session.install("build", "twine")
    with tempfile.TemporaryDirectory(prefix="opendalfs-build-") as tmp:
        out = Path(tmp)
        dist = out / "dist"
        session.run("python", "-m", "build", "--outdir", str(dist))
        artifacts = sorted(str(p) for p in dist.iterdir())
        session.run("twine", "check", "--strict", *artifacts)

        wheel = next(p for p in dist.iterdir() if p.suffix == ".whl")
        venv = out / "venv"
        session.run("python", "-m", "venv", str(venv))
        bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
        python = str(bindir / "python")
        session.run(python, "-m", "pip", "install", "-q", f"{wheel}[demo]", external=True)

        # From a scratch directory, so the source tree cannot stand in for the wheel.
        with session.chdir(out):
            session.run(python, "-c", _IMPORTED_FROM_VENV, external=True)
            session.run(python, str(QUICKSTART), external=True)


#: The benchmarks ``nox -s bench`` runs, each with the arguments ``--quick`` stands for.
BENCHMARKS = {
    "bench/file_throughput.py": ("--size", "256MiB", "--repeat", "1"),
}


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks in bench/ and print their tables; nothing fails on a slow number.

    Arguments after ``--`` go to every benchmark, e.g. ``nox -s bench -- --size 256MiB``.
    ``--quick`` stands for each benchmark's short run (file_throughput.py:
    ``--size 256MiB --repeat 1``); arguments given with it win over it.
    bench/README.md says what each one measures.
    """
    session.install(".")
    quick = "--quick" in session.posargs
    args = [arg for arg in session.posargs if arg != "--quick"]
    for script, quick_args in BENCHMARKS.items():
        session.run("python", str(ROOT / script), *(quick_args if quick else ()), *args)
