"""`parse_object_file_format`: every form PBS has written, and refusal of anything else."""

from __future__ import annotations

import pytest

from relink.distribution.metadata import ObjectFileFormat, parse_object_file_format
from relink.errors import ExitCode, RelinkError


@pytest.mark.parametrize(
    ("text", "kind", "version"),
    [
        ("elf", "elf", None),
        ("mach-o", "mach-o", None),
        ("coff", "coff", None),
        ("llvm-bitcode:18.0.8", "llvm-bitcode", "18.0.8"),
        ("llvm-bitcode:%18.0.8", "llvm-bitcode", "18.0.8"),
        ("llvm-bitcode:18.0.8+20240713", "llvm-bitcode", "18.0.8"),
        ("llvm-bitcode:%22.1.3+20260414", "llvm-bitcode", "22.1.3"),
        ("llvm-bitcode:14.0.3", "llvm-bitcode", "14.0.3"),
    ],
)
def test_known_forms(text: str, kind: str, version: str | None) -> None:
    parsed = parse_object_file_format(text)
    assert parsed == ObjectFileFormat(kind=kind, llvm_version=version, raw=text)
    assert parsed.is_bitcode == (kind == "llvm-bitcode")
    assert parsed.llvm_major == (int(version.split(".")[0]) if version else None)


@pytest.mark.parametrize(
    "text",
    ["", "ELF", "wasm", "llvm-bitcode", "llvm-bitcode:", "llvm-bitcode:abc", "elf:1.0", "llvm-bitcode:18.0.8+x"],
)
def test_unknown_forms_are_refused(text: str) -> None:
    with pytest.raises(RelinkError) as caught:
        parse_object_file_format(text)
    assert caught.value.code == ExitCode.INVALID_INPUT
    assert "object_file_format" in str(caught.value)


def test_non_string_is_refused() -> None:
    with pytest.raises(RelinkError):
        parse_object_file_format(18)  # type: ignore[arg-type]
