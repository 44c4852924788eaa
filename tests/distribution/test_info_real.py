"""The reader on a real distribution built from CPython source (the `lto_archive` session fixture)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from relink.cli import main
from relink.distribution.archive import read_metadata_member
from relink.distribution.opener import Distribution, open_distribution

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(lto_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distribution]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RELINK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield open_distribution(lto_archive)


def test_open_is_fast_and_reads_metadata(lto_archive: Path) -> None:
    started = time.perf_counter()
    dist = open_distribution(lto_archive)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"opening took {elapsed:.2f}s"
    meta = dist.metadata
    assert meta.python_major_minor_version == "3.11"
    assert meta.object_file_format.kind == "llvm-bitcode" and meta.object_file_format.llvm_major
    assert dist.archive_size == lto_archive.stat().st_size


def test_info_and_extensions_commands(dist: Distribution, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json", str(dist.source)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["object_file_format"] == "llvm-bitcode" and summary["form"] == "archive"
    assert summary["extensions"]["total"] == len(dist.metadata.build_info.extensions)
    assert main(["extensions", "--json", str(dist.source)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema_version"] == 1
    for row in document["extensions"]:
        if row["object_count"]:
            assert row["object_bytes"] > 0, row["name"]


def test_path_of_every_core_object(dist: Distribution) -> None:
    sizes = dist.member_sizes()
    assert sizes is not None
    magics = set()
    for rel in dist.metadata.build_info.core.objs:
        path = dist.path(rel)
        assert path.stat().st_size == sizes[rel] > 0, rel
        magics.add(path.read_bytes()[:4])
    assert b"BC\xc0\xde" in magics and magics <= {b"BC\xc0\xde", b"\x7fELF"}
    for variant in dist.metadata.build_info.variants():
        for rel in variant.objs:
            assert dist.path(rel).is_file()
    static_lib = dist.metadata.core_static_lib
    assert static_lib is not None and dist.path(static_lib).read_bytes()[:8] == b"!<arch>\n"


def test_extract_everything(dist: Distribution, capsys: pytest.CaptureFixture[str]) -> None:
    root = dist.extract()
    python = root / "python"
    assert (python / "PYTHON.json").read_bytes() == read_metadata_member(dist.source)
    assert (python / "install" / "bin" / "python3.11").is_file()
    assert main(["extract", "--print-path", str(dist.source)]) == 0
    assert Path(capsys.readouterr().out.strip()) == root
