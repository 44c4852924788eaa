"""Every object kind real PBS archives hold, made by real tools, read by the sniffer and judged by the gate:
ELF, Mach-O and COFF objects; LLVM bitcode raw, in the Darwin wrapper, embedded in ELF (`.llvmbc`) and in
Mach-O (`__LLVM,__bitcode`); MSVC /GL (LTCG) and /bigobj anonymous COFF; static libraries of each (GNU
ar, BSD/Darwin ar, MSVC .lib) and Windows import libraries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from relink.distribution.metadata import parse_object_file_format
from relink.toolchain.gate import OK, REFUSE, WARN
from relink.toolchain.consumer import detect_cc, detect_linker
from relink.toolchain.gate import evaluate
from relink.toolchain.objects import BITCODE, COFF, COFF_IMPORT, COFF_LTCG, ELF, MACHO, sniff_file
from relink.toolchain.survey import survey_objects

LTCG_HEADER = bytes.fromhex("0000ffff01006486") + bytes(4) + bytes.fromhex("38feb30ca5d9ab4dac9bd6b6222653c2") + bytes(40)
BIGOBJ_HEADER = bytes.fromhex("0000ffff02006486") + bytes(4) + bytes.fromhex("c7a1bad1eebaa94baf20faf66aa4dcb8") + bytes(40)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("kinds")
    (work / "f.c").write_text("int relink_f(int x) { return x + 1; }\n")

    def cc(out: str, *flags: str) -> None:
        subprocess.run(["clang-22", *flags, "-c", str(work / "f.c"), "-o", str(work / out)], check=True)

    cc("elf.o")
    cc("elf-bc.o", "-fembed-bitcode")
    cc("raw.bc.o", "-flto=thin")
    cc("macho.o", "--target=arm64-apple-macos11")
    cc("macho-bc.o", "--target=arm64-apple-macos11", "-fembed-bitcode")
    cc("wrapped.bc.o", "--target=arm64-apple-macos11", "-flto=thin")
    cc("coff.obj", "--target=x86_64-pc-windows-msvc")
    (work / "ltcg.obj").write_bytes(LTCG_HEADER)
    (work / "bigobj.obj").write_bytes(BIGOBJ_HEADER)
    subprocess.run(["llvm-ar-22", "rcs", str(work / "libelf.a"), str(work / "elf.o")], check=True)
    subprocess.run(["llvm-ar-22", "rcs", "--format=darwin", str(work / "libmacho.a"), str(work / "macho.o")], check=True)
    subprocess.run(["llvm-lib-22", f"/out:{work / 'coff.lib'}", str(work / "coff.obj")], check=True)
    # llvm-lib refuses /GL members (it cannot index them); MSVC's lib.exe writes the same ar container.
    subprocess.run(["llvm-ar-22", "rcS", "--format=coff", str(work / "ltcg.lib"), str(work / "ltcg.obj")], check=True)
    (work / "imp.def").write_text("LIBRARY libffi-8.dll\nEXPORTS\nffi_call\n")
    subprocess.run(["llvm-dlltool-22", "-m", "i386:x86-64", "-d", str(work / "imp.def"), "-l", str(work / "imp.lib")],
                   check=True)
    return work


@pytest.mark.parametrize(("name", "kind", "bitcode_inside"), [
    ("elf.o", ELF, False), ("elf-bc.o", ELF, True), ("raw.bc.o", BITCODE, True), ("macho.o", MACHO, False),
    ("macho-bc.o", MACHO, True), ("wrapped.bc.o", BITCODE, True), ("coff.obj", COFF, False),
    ("ltcg.obj", COFF_LTCG, False), ("bigobj.obj", COFF, False),
])
def test_objects(made: Path, name: str, kind: str, bitcode_inside: bool) -> None:
    info = sniff_file(made / name)
    assert info.format == kind
    assert (info.llvm_version or "").startswith("22.") is bitcode_inside


@pytest.mark.parametrize(("name", "members"), [
    ("libelf.a", [ELF]), ("libmacho.a", [MACHO]), ("coff.lib", [COFF]), ("ltcg.lib", [COFF_LTCG]),
    ("imp.lib", [COFF, COFF_IMPORT]),
])
def test_static_libraries(made: Path, name: str, members: list[str]) -> None:
    assert sorted({member.format for member in sniff_file(made / name).members}) == sorted(members)


def _verdicts(made: Path, names: list[str], declared: str, linker: str) -> dict[str, str]:
    survey = survey_objects(parse_object_file_format(declared), [(name, made / name) for name in names])
    report = evaluate(survey, [detect_cc("clang-22"), detect_linker(linker)], "dist")
    return {verdict.consumer.command: verdict.verdict for verdict in report.consumers}


def test_gate_judges_native_objects_by_the_linker_format(made: Path) -> None:
    assert _verdicts(made, ["elf.o", "libelf.a"], "elf", "ld.lld-22") == {"clang-22": OK, "ld.lld-22": OK}
    assert _verdicts(made, ["macho.o", "libmacho.a"], "mach-o", "ld.lld-22") == {"clang-22": WARN, "ld.lld-22": REFUSE}
    assert _verdicts(made, ["macho.o"], "mach-o", "ld64.lld-22") == {"clang-22": WARN, "ld64.lld-22": OK}
    assert _verdicts(made, ["coff.obj", "imp.lib", "bigobj.obj"], "coff", "lld-link-22") == {
        "clang-22": WARN, "lld-link-22": OK}
    assert _verdicts(made, ["coff.obj", "ltcg.lib"], "coff", "lld-link-22") == {
        "clang-22": REFUSE, "lld-link-22": REFUSE}


def test_zero_objects_is_never_ok(made: Path) -> None:
    survey = survey_objects(parse_object_file_format("elf"), [])
    report = evaluate(survey, [detect_cc("clang-22")], "dist")
    assert report.verdict == REFUSE and "no objects were checked" in report.consumers[0].reason
