"""`relink build --cc/--linker`: an archive of native objects linked by gcc with GNU ld or gold instead of
the pinned clang + lld, checked from the outside (the binary's .comment and gold's version note); the
gate still refuses a compiler that cannot read bitcode, and leaves no output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

APP = "import json, sys\nprint(json.dumps({'argv': sys.argv[1:]}))\n"


def _relink(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relink", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def _section(exe: Path, flag: str, name: str) -> str:
    return subprocess.run(["readelf", flag, *([name] if name else []), str(exe)], capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    script = tmp_path_factory.mktemp("cc-app") / "echo_args.py"
    script.write_text(APP)
    return script


@pytest.mark.parametrize("linker", [None, "ld.gold"])
def test_gcc_links_the_elf_archive(elf_archive: Path, app: Path, tmp_path: Path, linker: str | None) -> None:
    out = tmp_path / "echo"
    result = _relink("build", elf_archive, "--app", app, "--cc", "gcc", *(["--linker", linker] if linker else []),
                     "--no-strip", "-q", "-o", out)
    assert result.returncode == 0, result.stderr
    run = subprocess.run(["env", "-i", str(out), "a", "b"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == '{"argv": ["a", "b"]}\n', run.stderr
    comment = _section(out, "-p", ".comment")
    assert "GCC: (" in comment and "LLD" not in comment  # the launcher by gcc, no lld in the link
    assert ("gold" in _section(out, "-n", "")) == (linker == "ld.gold")


def test_gcc_is_refused_for_bitcode_and_nothing_is_written(lto_archive: Path, app: Path, tmp_path: Path) -> None:
    out = tmp_path / "echo"
    result = _relink("build", lto_archive, "--app", app, "--cc", "gcc", "-q", "-o", out)
    assert result.returncode == 4
    assert "gcc (gcc " in result.stderr and "cannot read LLVM" in result.stderr and "relink lower" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_linker_needs_cc(app: Path, tmp_path: Path) -> None:
    result = _relink("build", "--app", app, "--linker", "ld.gold", "-o", tmp_path / "x")
    assert result.returncode == 2 and "--linker needs --cc" in result.stderr
