"""The toolchain gate on miniature distributions built with real clang-22, clang-19 and gcc."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from minidist import make_minidist

from relink.cli import main
from relink.commands.toolchain import add_consumer_arguments, gate_from_args
from relink.errors import ExitCode, RelinkError
from relink.toolchain.consumer import detect_cc, detect_linker, detect_rustc
from relink.toolchain.gate import OK, REFUSE, WARN, run_gate

THIN22 = ["clang-22", "-flto=thin", "-O2", "-fPIC"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELINK_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def bitcode_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_minidist(tmp_path_factory.mktemp("gate") / "lto", THIN22, "llvm-bitcode:%22.1.3")


@pytest.fixture(scope="module")
def elf_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_minidist(tmp_path_factory.mktemp("gate") / "elf", ["clang-22", "-O2", "-fPIC"], "elf")


def test_pinned_clang_accepted_and_report_is_json(bitcode_dist: Path) -> None:
    report = run_gate(bitcode_dist)
    assert report.verdict == OK and report.consumers[0].consumer.kind == "clang"
    assert report.survey.effective_format == "llvm-bitcode"
    assert report.survey.producer_version.startswith("22.")
    assert report.survey.disagreements == []  # native asm_trampoline.o is expected in LTO builds
    json.dumps(report.to_json())


def test_older_clang_refused_with_remedy(bitcode_dist: Path) -> None:
    with pytest.raises(RelinkError) as caught:
        run_gate(bitcode_dist, cc="clang-19")
    message = caught.value.message
    assert caught.value.code == ExitCode.TOOLCHAIN and "\n" not in message
    assert "older than LLVM 22" in message
    assert "toolchain/setup.sh" in message and "--cc clang-22" in message and f"relink lower {bitcode_dist}" in message
    assert run_gate(bitcode_dist, cc="clang-19", allow_mismatch=True).verdict == REFUSE


def test_newer_consumer_is_a_warning(tmp_path: Path) -> None:
    dist = make_minidist(tmp_path / "lto19", ["clang-19", "-flto", "-O2", "-fPIC"], "llvm-bitcode:%19.1.7")
    report = run_gate(dist, cc="clang-22")
    assert report.verdict == WARN and "newer LLVM major" in report.consumers[0].reason


@pytest.mark.parametrize(("cc", "linker"), [("gcc", None), ("clang-22", "ld"), ("clang-22", "ld.gold"),
                                            ("clang-22", "ld.lld-19")])
def test_non_llvm_or_old_linker_refused_on_bitcode(bitcode_dist: Path, cc: str, linker: str | None) -> None:
    report = run_gate(bitcode_dist, cc=cc, linker=linker, allow_mismatch=True)
    assert report.verdict == REFUSE
    refused = [v for v in report.consumers if v.verdict == REFUSE]
    assert refused[0].consumer.command == (linker or cc)


def test_native_distribution_accepts_any_toolchain(elf_dist: Path) -> None:
    report = run_gate(elf_dist, cc="gcc", linker="ld", rustc="rustc")
    assert report.verdict == OK and report.survey.effective_format == "elf"
    report = run_gate(elf_dist, cc="clang-19", linker="ld.gold")
    assert report.verdict == OK


def test_mislabelled_native_objects_are_reported(elf_dist: Path, tmp_path: Path) -> None:
    dist = make_minidist(tmp_path / "mislabelled", ["clang-22", "-O2", "-fPIC"], "llvm-bitcode:%22.1.3")
    report = run_gate(dist, cc="gcc")
    assert report.verdict == OK and report.survey.effective_format == "elf"
    lines = report.survey.disagreements
    assert any("but object is native elf" in line and "build/Objects/add.o" in line for line in lines)
    assert any("no checked object is LLVM bitcode" in line for line in lines)


def test_bitcode_labelled_elf_is_reported_and_gated(tmp_path: Path) -> None:
    dist = make_minidist(tmp_path / "hidden", THIN22, "elf")
    report = run_gate(dist, cc="gcc", allow_mismatch=True)
    assert report.verdict == REFUSE and report.survey.effective_format == "llvm-bitcode"
    assert any("metadata says elf but object is LLVM bitcode" in line for line in report.survey.disagreements)


def test_gcc_fat_lto_distribution_is_native(tmp_path: Path) -> None:
    dist = make_minidist(tmp_path / "gcclto", ["gcc", "-flto", "-ffat-lto-objects", "-O2", "-fPIC"],
                         "llvm-bitcode:%12.2.0")
    report = run_gate(dist, cc="gcc", linker="ld")
    assert report.verdict == OK and report.survey.formats["elf+gcc-fat-lto"] == 2
    assert any("GCC fat-LTO elf" in line for line in report.survey.disagreements)


def test_consumer_detection() -> None:
    assert detect_cc("clang-22").llvm_major == 22 and detect_cc("clang-19").llvm_major == 19
    gcc = detect_cc("gcc")
    assert gcc.kind == "gcc" and not gcc.reads_bitcode
    lld = detect_linker("ld.lld-22")
    assert (lld.kind, lld.llvm_major, lld.reads_bitcode) == ("lld", 22, True)
    assert detect_linker("ld").kind == "gnu-ld"
    rustc = detect_rustc("rustc")
    assert rustc.llvm_major is not None and re.fullmatch(r"\d+\.\d+\.\d+", rustc.version)


def test_rustc_judged_by_its_llvm(bitcode_dist: Path) -> None:
    report = run_gate(bitcode_dist, rustc="rustc", allow_mismatch=True)
    rustc = report.consumers[-1]
    assert rustc.consumer.kind == "rustc"
    expected = OK if rustc.consumer.llvm_major == 22 else (WARN if rustc.consumer.llvm_major > 22 else REFUSE)
    assert rustc.verdict == expected


@pytest.mark.parametrize(("flag", "value", "expected"), [
    ("--cc", "no-such-clang-99", "compiler 'no-such-clang-99' not found on PATH"),
    ("--cc", "python3", "compiler 'python3' is neither clang nor gcc"),
    ("--rustc", "no-such-rustc", "rustc 'no-such-rustc' not found on PATH"),
    ("--rustc", "clang-22", "rustc 'clang-22' failed on '-vV'"),
    ("--linker", "python3", "linker 'python3' is not LLD, GNU ld or gold"),
])
def test_bad_tools_are_one_clear_line(bitcode_dist: Path, capsys: pytest.CaptureFixture[str],
                                      flag: str, value: str, expected: str) -> None:
    assert main(["toolchain", "check", str(bitcode_dist), flag, value]) == ExitCode.TOOLCHAIN
    err = capsys.readouterr().err
    assert err.startswith(f"relink: error: {expected}") and err.count("\n") == 1


def test_unknown_object_format_string_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dist = make_minidist(tmp_path / "weird", THIN22, "wasm-object")
    assert main(["toolchain", "check", str(dist)]) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert "unknown object_file_format 'wasm-object'" in err and err.count("\n") == 1


def test_unreadable_object_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dist = make_minidist(tmp_path / "broken", THIN22, "llvm-bitcode:%22.1.3")
    obj = dist / "python/build/Objects/add.o"
    obj.write_bytes(obj.read_bytes()[:30])
    assert main(["toolchain", "check", str(dist)]) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert "add.o: corrupt or truncated object file" in err and err.count("\n") == 1


def test_cli_json_and_exit_codes(bitcode_dist: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["toolchain", "check", str(bitcode_dist), "--json", "--linker", "ld.lld-22"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "ok" and report["objects"]["producers"]
    assert [c["consumer"]["kind"] for c in report["consumers"]] == ["clang", "lld"]
    assert main(["toolchain", "check", str(bitcode_dist), "--cc", "clang-19"]) == ExitCode.TOOLCHAIN
    captured = capsys.readouterr()
    assert "verdict: refuse" in captured.out and captured.err.count("\n") == 1


def test_build_commands_share_the_skip_flag(bitcode_dist: Path) -> None:
    parser = argparse.ArgumentParser()
    add_consumer_arguments(parser)
    with pytest.raises(RelinkError):
        gate_from_args(parser.parse_args(["--cc", "clang-19"]), str(bitcode_dist))
    skipped = gate_from_args(parser.parse_args(["--cc", "clang-19", "--skip-toolchain-check"]), str(bitcode_dist))
    assert skipped.verdict == REFUSE
