"""The toolchain gate on the real ThinLTO distribution built from CPython source (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relink.errors import ExitCode, RelinkError
from relink.toolchain.gate import OK, REFUSE, run_gate

pytestmark = pytest.mark.slow


def test_real_bitcode_distribution_gated(lto_archive: Path) -> None:
    report = run_gate(lto_archive, linker="ld.lld-22", rustc="rustc")
    survey = report.survey
    assert report.verdict == OK and survey.effective_format == "llvm-bitcode"
    assert survey.producer_version.startswith("22.") and survey.disagreements == []
    assert survey.checked > 200 and set(survey.producers) == {f"LLVM{survey.producer_version}"}
    assert survey.formats.get("ar[elf]", 0) > 0  # third-party libraries stay native: not a disagreement


@pytest.mark.parametrize(("cc", "linker"), [("clang-19", None), ("gcc", None), ("clang-22", "ld")])
def test_real_bitcode_distribution_refuses_old_or_gnu(lto_archive: Path, cc: str, linker: str | None) -> None:
    with pytest.raises(RelinkError) as caught:
        run_gate(lto_archive, cc=cc, linker=linker)
    assert caught.value.code == ExitCode.TOOLCHAIN and "relink lower" in caught.value.message
    assert run_gate(lto_archive, cc=cc, linker=linker, allow_mismatch=True).verdict == REFUSE


def test_real_native_distribution_accepts_gcc(elf_archive: Path) -> None:
    report = run_gate(elf_archive, cc="gcc", linker="ld")
    assert report.verdict == OK and report.survey.effective_format == "elf"
