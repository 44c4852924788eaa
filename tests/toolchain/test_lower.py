"""`relink lower`: bitcode distributions lowered with clang-22, then linked by gcc/GNU ld, clang-19 and rustc."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from minidist import MAIN_C, make_minidist

from relink.cli import main
from relink.distribution.opener import open_distribution
from relink.errors import ExitCode, RelinkError
from relink.toolchain.gate import OK, REFUSE, run_gate
from relink.toolchain.lower import lower_distribution
from relink.toolchain.objects import ARCHIVE, BITCODE, ELF, sniff_file

THIN22 = ["clang-22", "-flto=thin", "-O2", "-fPIC"]
EXPECTED_OUTPUT = "35\n"


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RELINK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture()
def lowered(tmp_path: Path, cache: Path) -> tuple[Path, Path]:
    """(bitcode distribution, its lowered root)."""
    dist = make_minidist(tmp_path / "lto", THIN22, "llvm-bitcode:%22.1.3")
    return dist, lower_distribution(dist)


def link_and_run(cc: str, root: Path, tmp: Path, *, via_archive: bool = False) -> str:
    main_c = tmp / "main.c"
    main_c.write_text(MAIN_C)
    python = root / "python"
    objects = [python / "install/lib/libpy.a"] if via_archive else [
        python / "build/Objects/add.o", python / "build/Modules/_mul.o",
    ]
    exe = tmp / f"prog-{cc}"
    subprocess.run(
        [cc, str(main_c), *map(str, objects), str(python / "build/Python/asm_trampoline.o"),
         str(python / "build/lib/libnative.a"), "-o", str(exe)],
        check=True, capture_output=True, text=True,
    )
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout


def test_gcc_cannot_link_bitcode_before_lowering(tmp_path: Path, cache: Path) -> None:
    dist = make_minidist(tmp_path / "lto", THIN22, "llvm-bitcode:%22.1.3")
    with pytest.raises(subprocess.CalledProcessError) as failed:
        link_and_run("gcc", dist, tmp_path)
    assert "file format not recognized" in failed.value.stderr
    assert run_gate(dist, cc="gcc", allow_mismatch=True).verdict == REFUSE


def test_lowered_distribution_is_native_and_opens(lowered: tuple[Path, Path]) -> None:
    dist, root = lowered
    derived = open_distribution(root)
    assert derived.metadata.build_info.object_file_format.raw == "elf"
    assert derived.metadata.build_info.core.objs == open_distribution(dist).metadata.build_info.core.objs
    for rel in ("build/Objects/add.o", "build/Modules/_mul.o"):
        assert sniff_file(dist / "python" / rel).format == BITCODE  # the source is untouched
        assert sniff_file(root / "python" / rel).format == ELF
    archive = sniff_file(root / "python/install/lib/libpy.a")
    assert archive.format == ARCHIVE and [m.format for m in archive.members] == [ELF, ELF]
    assert (root / "python/install/bin/python3").is_symlink()
    provenance = json.loads((root / "lowered.json").read_text())
    assert provenance["bitcode_objects"] == 4 and provenance["unique_compiles"] == 2
    assert provenance["object_file_format"] == "elf"


@pytest.mark.parametrize("cc", ["gcc", "clang-19"])
def test_lowered_objects_link_and_run(lowered: tuple[Path, Path], tmp_path: Path, cc: str) -> None:
    _dist, root = lowered
    assert run_gate(root, cc=cc, linker="ld").verdict == OK
    assert link_and_run(cc, root, tmp_path) == EXPECTED_OUTPUT
    assert link_and_run(cc, root, tmp_path, via_archive=True) == EXPECTED_OUTPUT


def test_rustc_links_lowered_archive(lowered: tuple[Path, Path], tmp_path: Path) -> None:
    _dist, root = lowered
    python = root / "python"
    main_rs = tmp_path / "main.rs"
    main_rs.write_text(
        'unsafe extern "C" { fn relink_add(a: i32, b: i32) -> i32; fn relink_mul(a: i32, b: i32) -> i32; }\n'
        'fn main() { unsafe { println!("{}", relink_mul(relink_add(2, 3), 7)); } }\n'
    )
    exe = tmp_path / "rsprog"
    subprocess.run(
        ["rustc", "--edition=2024", str(main_rs), "-o", str(exe), "-L", str(python / "install/lib"),
         "-l", "static=py"], check=True,
    )
    assert subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout == "35\n"


def test_lowering_is_cached_per_llvm(lowered: tuple[Path, Path], cache: Path) -> None:
    dist, root = lowered
    stamp = (root / "lowered.json").stat().st_mtime_ns
    assert lower_distribution(dist) == root
    assert (root / "lowered.json").stat().st_mtime_ns == stamp
    assert root.parent == cache / "lowered" and root.name.endswith("-llvm22.1.8")
    assert not [p for p in root.parent.iterdir() if p.name.endswith(".partial")]


def test_cli_prints_the_derived_root(lowered: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    dist, root = lowered
    assert main(["lower", str(dist)]) == 0
    assert capsys.readouterr().out == f"{root}\n"


def test_older_clang_cannot_lower(tmp_path: Path, cache: Path) -> None:
    dist = make_minidist(tmp_path / "lto", THIN22, "llvm-bitcode:%22.1.3")
    with pytest.raises(RelinkError) as caught:
        lower_distribution(dist, cc="clang-19")
    assert caught.value.code == ExitCode.TOOLCHAIN and "pass --cc clang-22 or newer" in caught.value.message
    assert not list(cache.glob("lowered/*/lowered.json"))
    assert not [p for p in cache.glob("lowered/*") if p.is_dir()]  # nothing half-written left behind


def test_gcc_cannot_lower(tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dist = make_minidist(tmp_path / "lto", THIN22, "llvm-bitcode:%22.1.3")
    assert main(["lower", str(dist), "--cc", "gcc"]) == ExitCode.TOOLCHAIN
    err = capsys.readouterr().err
    assert err.startswith("relink: error: lowering needs clang") and err.count("\n") == 1
