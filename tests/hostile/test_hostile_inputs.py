"""The hostile-input suite: generated archives and PYTHON.json documents, each run through the commands
that read, extract and render a distribution, inside a canary tree.

For every case: no command raises (no traceback), each exits with a documented code and, when it fails,
prints exactly one line; `relink extract` gives the expected code (3 for every hostile or corrupt input);
nothing is written outside the work folder's output and cache (the canary tree around the work folder is
compared before and after, byte for byte); and the cache holds no staging or scratch folders afterwards.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_cases import METADATA_CASES, Case, archive_cases, metadata_archive

from relink.cli import main
from relink.errors import ExitCode

DOCUMENTED = {int(code) for code in ExitCode}
ARCHIVE_CASES = {case.name: case for case in archive_cases()}


def _snapshot(root: Path, skip: tuple[Path, ...]) -> dict[str, tuple]:
    """Every path under `root` (outside `skip`) with its kind and content."""
    found: dict[str, tuple] = {}
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if Path(folder, d) not in skip]
        for name in dirnames + filenames:
            path = Path(folder, name)
            if path in skip:
                continue
            relative = str(path.relative_to(root))
            if path.is_symlink():
                found[relative] = ("link", os.readlink(path))
            elif path.is_dir():
                found[relative] = ("dir",)
            else:
                found[relative] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode)
    return found


@pytest.fixture
def canary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/canary/{victim.txt, etc/passwd, keep/...} around tmp/canary/work (the current folder)."""
    canary = tmp_path / "canary"
    (canary / "etc").mkdir(parents=True)
    (canary / "victim.txt").write_text("do not touch\n")
    (canary / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (canary / "keep").mkdir()
    (canary / "keep" / "data.bin").write_bytes(bytes(range(256)))
    work = canary / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("RELINK_CACHE_DIR", str(work / "cache"))
    return canary


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code = main(argv)  # an exception escaping here is a traceback: the test fails
    err = capsys.readouterr().err
    assert code in DOCUMENTED, (argv, code, err)
    assert "Traceback" not in err
    if code:
        assert err.count("\n") == 1 and err.startswith("relink: error: "), (argv, err)
    return code, err


def _commands(archive: Path, out: Path) -> dict[str, list[str]]:
    return {
        "info": ["info", str(archive)],
        "licenses": ["licenses", str(archive), "--extensions", "none"],
        "extract": ["extract", str(archive)],
        "extract again": ["extract", str(archive)],
        "plan": ["plan", str(archive), "--extensions", "default"],
        # The archives' interpreters are stand-ins: the stdlib zip (which runs one) is not what is tested here.
        "generate": ["generate", str(archive), "-o", str(out), "--extensions", "default", "--stdlib", "none"],
    }


def _check_case(archive: Path, canary: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    work = canary / "work"
    out = work / "out"
    before = _snapshot(canary.parent, (work / "cache", out, archive))
    codes = {label: _run(capsys, argv)[0] for label, argv in _commands(archive, out).items()}
    assert _snapshot(canary.parent, (work / "cache", out, archive)) == before, "a write outside OUT and the cache"
    leftovers = [p for p in (work / "cache").rglob("*") if p.name.endswith(".partial")]
    leftovers += list((work / "cache" / "tmp").glob("*")) if (work / "cache" / "tmp").is_dir() else []
    assert leftovers == []
    if codes["generate"] != 0:
        assert not out.exists()
    return codes


@pytest.mark.parametrize("name", sorted(ARCHIVE_CASES))
def test_hostile_archive(name: str, canary: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case: Case = ARCHIVE_CASES[name]
    started = time.monotonic()
    archive = case.make(canary / "work", canary)
    codes = _check_case(archive, canary, capsys)
    assert codes["extract"] == case.extract_code, codes
    if case.extract_code:
        # Nothing from a refused archive is trusted: every later command that needs its files refuses too.
        assert codes["extract again"] == codes["generate"] == case.extract_code, codes
        entry_files = [p for p in (canary / "work" / "cache" / "extracted").rglob("*") if p.is_file()] \
            if (canary / "work" / "cache" / "extracted").is_dir() else []
        assert [p for p in entry_files if not p.name.endswith(".lock")] == []
    else:
        assert codes["generate"] == 0
    assert time.monotonic() - started < 60


@pytest.mark.parametrize("name", sorted(METADATA_CASES))
def test_hostile_metadata(name: str, canary: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = metadata_archive(METADATA_CASES[name])(canary / "work", canary)
    codes = _check_case(archive, canary, capsys)
    assert codes["generate"] == ExitCode.INVALID_INPUT, codes
    assert not (canary / "injected").exists()


def test_case_count() -> None:
    assert len(ARCHIVE_CASES) + len(METADATA_CASES) >= 200


# A few cases end to end, in a separate process, as a user runs them: exit code 3, one line, no traceback.
@pytest.mark.parametrize("name", [
    "zst: link chain x->. y->x/x/../.. then write through it",
    "gz: absolute symlink to canary victim",
    "zst-checksum: bomb: one 3 GiB member",
    "zst-checksum: byte flipped at 50%",
    "gz: pax header of 2 MiB",
])
def test_hostile_archive_in_a_process(name: str, canary: Path) -> None:
    archive = ARCHIVE_CASES[name].make(canary / "work", canary)
    for command in (["licenses", str(archive), "--extensions", "none"], ["extract", str(archive)]):
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "relink", *command], capture_output=True, text=True,
                                env={**os.environ, "RELINK_CACHE_DIR": str(canary / "work" / "cache")})
        assert result.returncode in (0, 3) and "Traceback" not in result.stderr
        assert time.monotonic() - started < 20
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"relink: error: {archive}")


def _folder_distribution(root: Path) -> Path:
    """The members of the small test archive written as an extracted folder."""
    from helpers_archives import distribution_members, minimal_metadata

    for spec, data in distribution_members(minimal_metadata()):
        if isinstance(spec, str):
            (root / spec).parent.mkdir(parents=True, exist_ok=True)
            (root / spec).write_bytes(data)
        else:
            (root / spec.name).symlink_to(spec.linkname)
    return root


FOLDER_CHANGES = {
    "object is a symlink loop": lambda obj, canary: obj.symlink_to(obj.name),
    "object is a two-link loop": lambda obj, canary: (obj.symlink_to("other.o"),
                                                      (obj.parent / "other.o").symlink_to(obj.name)),
    "object links out to the canary": lambda obj, canary: obj.symlink_to(canary / "victim.txt"),
    "object dangles out of the tree": lambda obj, canary: obj.symlink_to("/nonexistent/x.o"),
    "object is a folder": lambda obj, canary: obj.mkdir(),
    "objects folder links to the canary": lambda obj, canary: (
        __import__("shutil").rmtree(obj.parent), obj.parent.symlink_to(canary)),
    "include folder is a loop": lambda obj, canary: (
        __import__("shutil").rmtree(obj.parents[2] / "install" / "include" / "python3.11"),
        (obj.parents[2] / "install" / "include" / "python3.11").symlink_to("python3.11")),
}


@pytest.mark.parametrize("change", sorted(FOLDER_CHANGES))
def test_hostile_extracted_folder(change: str, canary: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder_distribution(canary / "work" / "dist")
    obj = folder / "python" / "build" / "Objects" / "abstract.o"
    obj.unlink()
    FOLDER_CHANGES[change](obj, canary)
    out = canary / "work" / "out"
    before = _snapshot(canary.parent, (canary / "work" / "cache", out))
    codes = {argv[0]: _run(capsys, argv)[0] for argv in (
        ["info", str(folder)], ["plan", str(folder), "--extensions", "default"],
        ["licenses", str(folder), "--extensions", "default"],
        ["generate", str(folder), "-o", str(out), "--extensions", "default"])}
    assert _snapshot(canary.parent, (canary / "work" / "cache", out)) == before
    if change != "object is a folder":
        assert codes["generate"] == ExitCode.INVALID_INPUT, codes
