"""Object sniffing on real objects from clang-22, clang-19 and gcc, checked against llvm-bcanalyzer-22."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from relink.errors import ExitCode, RelinkError
from relink.toolchain.bitcode import read_identification
from relink.toolchain.objects import ARCHIVE, BITCODE, ELF, UNKNOWN, sniff_bytes, sniff_file

SOURCE = "int relink_add(int a, int b) { return a + b; }\n"


def compile_c(tmp: Path, name: str, *command: str, source: str = SOURCE) -> Path:
    """Compile `source` with `command` (compiler and flags) into tmp/name."""
    c_file = tmp / f"{name}.c"
    c_file.write_text(source)
    out = tmp / name
    subprocess.run([*command, "-c", str(c_file), "-o", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def objs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("objs")
    built = {
        "thin22": compile_c(tmp, "thin22.o", "clang-22", "-flto=thin", "-O2"),
        "full19": compile_c(tmp, "full19.o", "clang-19", "-flto", "-O2"),
        "native22": compile_c(tmp, "native22.o", "clang-22", "-O2"),
        "fat22": compile_c(tmp, "fat22.o", "clang-22", "-flto", "-ffat-lto-objects", "-O2"),
        "gccfat": compile_c(tmp, "gccfat.o", "gcc", "-flto", "-ffat-lto-objects", "-O2"),
        "gccslim": compile_c(tmp, "gccslim.o", "gcc", "-flto", "-fno-fat-lto-objects", "-O2"),
        "gccnative": compile_c(tmp, "gccnative.o", "gcc", "-O2"),
    }
    long_named = tmp / "a_member_name_longer_than_sixteen_bytes.o"
    shutil.copy(built["native22"], long_named)
    built["gnu_ar"] = tmp / "libgnu.a"
    subprocess.run(["ar", "rcs", str(built["gnu_ar"]), str(built["gccnative"]), str(long_named)], check=True)
    built["mixed_ar"] = tmp / "libmixed.a"
    subprocess.run(["llvm-ar-22", "rcs", str(built["mixed_ar"]), str(built["thin22"]), str(long_named)], check=True)
    built["bsd_ar"] = tmp / "libbsd.a"
    subprocess.run(
        ["llvm-ar-22", "rcs", "--format=bsd", str(built["bsd_ar"]), str(built["full19"]), str(long_named)],
        check=True,
    )
    return built


def bcanalyzer_producer(path: Path) -> str:
    dump = subprocess.run(["llvm-bcanalyzer-22", "-dump", str(path)], capture_output=True, text=True, check=True)
    match = re.search(r"<IDENTIFICATION_BLOCK_ID.*?record string = '([^']*)'", dump.stdout, re.DOTALL)
    assert match, dump.stdout[:500]
    return match.group(1)


@pytest.mark.parametrize("key", ["thin22", "full19"])
def test_bitcode_producer_matches_bcanalyzer(objs: dict[str, Path], key: str) -> None:
    info = sniff_file(objs[key])
    assert info.format == BITCODE
    assert info.producer == bcanalyzer_producer(objs[key])
    assert info.llvm_version.split(".")[0] == {"thin22": "22", "full19": "19"}[key]


def test_wrapped_bitcode_is_unwrapped(objs: dict[str, Path]) -> None:
    raw = objs["thin22"].read_bytes()
    wrapper = struct.pack("<5I", 0x0B17C0DE, 0, 20, len(raw), 0x01000007) + raw
    info = sniff_bytes(wrapper, "wrapped.o")
    assert info.format == BITCODE and info.producer == bcanalyzer_producer(objs["thin22"])
    assert read_identification(wrapper).epoch == 0


def test_native_elf_comment_names_the_compiler(objs: dict[str, Path]) -> None:
    clang = sniff_file(objs["native22"])
    assert clang.format == ELF and "clang version 22" in clang.comment
    assert not clang.is_bitcode and clang.gcc_lto is None
    assert "GCC:" in sniff_file(objs["gccnative"]).comment


def test_gcc_lto_objects_are_elf_with_gcc_lto(objs: dict[str, Path]) -> None:
    fat, slim = sniff_file(objs["gccfat"]), sniff_file(objs["gccslim"])
    assert (fat.format, fat.gcc_lto, fat.is_bitcode) == (ELF, "fat", False)
    assert (slim.format, slim.gcc_lto) == (ELF, "slim")


def test_clang_fat_lto_object_reports_embedded_producer(objs: dict[str, Path]) -> None:
    info = sniff_file(objs["fat22"])
    assert info.format == ELF and info.embedded_bitcode and not info.is_bitcode
    assert info.producer == bcanalyzer_producer(objs["thin22"])  # same clang-22 build


def test_archives_gnu_bsd_and_mixed(objs: dict[str, Path]) -> None:
    gnu = sniff_file(objs["gnu_ar"])
    assert gnu.format == ARCHIVE and not gnu.is_bitcode
    assert [Path(m.name[m.name.index("(") + 1:-1]).name for m in gnu.members] == [
        "gccnative.o", "a_member_name_longer_than_sixteen_bytes.o",
    ]
    mixed = sniff_file(objs["mixed_ar"])
    assert [m.format for m in mixed.members] == [BITCODE, ELF] and mixed.is_bitcode
    bsd = sniff_file(objs["bsd_ar"])
    assert [m.format for m in bsd.members] == [BITCODE, ELF]
    assert bsd.members[0].producer.startswith("LLVM19.")
    assert bsd.members[1].name.endswith("(a_member_name_longer_than_sixteen_bytes.o)")


def test_unknown_bytes_are_unknown(tmp_path: Path) -> None:
    text = tmp_path / "notes.o"
    text.write_text("not an object\n")
    assert sniff_file(text).format == UNKNOWN
    empty = tmp_path / "empty.o"
    empty.write_bytes(b"")
    assert sniff_file(empty).format == UNKNOWN


def test_truncated_bitcode_is_one_clear_error(objs: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut.o"
    cut.write_bytes(objs["thin22"].read_bytes()[:24])
    with pytest.raises(RelinkError) as caught:
        sniff_file(cut)
    assert caught.value.code == ExitCode.INVALID_INPUT
    assert "cut.o" in caught.value.message and "\n" not in caught.value.message


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_unreadable_object_is_one_clear_error(tmp_path: Path, make: str) -> None:
    target = tmp_path / "obj.o"
    if make == "directory":
        target.mkdir()
    with pytest.raises(RelinkError) as caught:
        sniff_file(target)
    assert caught.value.message.startswith(f"cannot read object file {target}")
