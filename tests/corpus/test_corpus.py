"""The corpus: real programs using pinned PyPI packages, each built with `relink build`'s default options,
run alone from an empty folder under `env -i LANG=C.UTF-8`, and compared with the distribution's own
interpreter running the same program (output and exit code).

Programs are tests/corpus/programs/*.py; the packages are tests/corpus/requirements.txt, installed by
scripts/setup-corpus.sh. Builds share relink's cache (linked interpreters, bytecode), so a second run
mostly re-embeds.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from relink.distribution import open_distribution

pytestmark = pytest.mark.slow

PROGRAMS = Path(__file__).resolve().parent / "programs"
# Programs that cannot match yet, each with the reason.
KNOWN_DIFFERENCES: dict[str, str] = {}
# Programs that use a wheel needing a newer glibc than the default distribution's floor (2.17): built with
# `--glibc` raised to what its tags say (Pillow 13: manylinux_2_27, pyzmq 27: manylinux_2_26). Programs
# that only reach Pillow through optional imports build without it (a warning) and run on the floor.
GLIBC_FLOOR = {"pillow_png": "2.27", "zmq_inproc": "2.26"}


@pytest.fixture(scope="module")
def stock_python(lto_archive) -> Path:
    dist = open_distribution(lto_archive)
    return dist.extract() / "python" / dist.metadata.python_exe


def _run(argv: list[str], cwd: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = ["env", "-i", "LANG=C.UTF-8", *(f"{k}={v}" for k, v in (extra_env or {}).items())]
    return subprocess.run([*env, *argv], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize("program", sorted(p.stem for p in PROGRAMS.glob("*.py")))
def test_program_matches_the_stock_interpreter(program, tmp_path, lto_archive, stock_python, corpus_site_packages):
    if program in KNOWN_DIFFERENCES:
        pytest.xfail(KNOWN_DIFFERENCES[program])
    source = PROGRAMS / f"{program}.py"
    out = tmp_path / program
    build = subprocess.run([sys.executable, "-m", "relink", "build", "-q", "--app", str(source),
                            "--include", str(corpus_site_packages), "-o", str(out),
                            *(["--glibc", GLIBC_FLOOR[program]] if program in GLIBC_FLOOR else [])],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    built = _run([str(out)], empty)
    stock = _run([str(stock_python), "-s", str(source)], empty, {"PYTHONPATH": str(corpus_site_packages)})
    assert stock.returncode == 0, stock.stderr
    assert (built.returncode, built.stdout) == (stock.returncode, stock.stdout), built.stderr
    assert list(empty.iterdir()) == []
