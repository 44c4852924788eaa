"""Integrity: archives relink writes carry zstd content checksums, and any flipped byte is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zstandard
from helpers_archives import minimal_metadata, object_bytes

from relink.cli import main
from relink.distribution.srcbuild.package import write_archive


def _stage(root: Path) -> Path:
    metadata = minimal_metadata()
    python = root / "python"
    for rel in ["build/Objects/abstract.o", "build/Python/ceval.o", "build/Modules/config.o",
                "build/Modules/_ssl.o", "build/lib/libssl.a", "build/Modules/mathmodule.o",
                "build/Modules/posixmodule.o", "install/include/python3.11/Python.h"]:
        (python / rel).parent.mkdir(parents=True, exist_ok=True)
        (python / rel).write_bytes(object_bytes(rel) * 40)
    (python / "PYTHON.json").write_text(json.dumps(metadata))
    return root


def test_written_archives_carry_checksums_and_every_flip_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "dist.tar.zst"
    write_archive(_stage(tmp_path / "stage"), archive, mtime=0)
    data = archive.read_bytes()
    assert zstandard.get_frame_parameters(data).has_checksum
    assert archive.stat().st_mode & 0o044  # readable by others, as the umask allows, not mkstemp's 0600
    monkeypatch.setenv("RELINK_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["extract", str(archive)]) == 0
    original = _decoded(data)
    changed = refused = 0
    for index, offset in enumerate(range(4, len(data), max(1, len(data) // 60))):
        corrupt = bytearray(data)
        corrupt[offset] ^= 0x10
        if _decoded(bytes(corrupt)) == original:
            continue  # a bit the format does not use for the content (the content is intact)
        changed += 1
        flipped = tmp_path / f"flipped{index}.tar.zst"
        flipped.write_bytes(bytes(corrupt))
        refused += main(["extract", str(flipped)]) == 3
        assert "Traceback" not in capsys.readouterr().err
    assert changed > 40 and refused == changed


def _decoded(data: bytes) -> bytes | None:
    """The whole content as a lenient reader gets it (None when decoding fails outright)."""
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
        return reader.read()
    except zstandard.ZstdError:
        return None
