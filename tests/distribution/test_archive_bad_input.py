"""Bad distributions: each is refused with one line naming the file, exit code 3, and an untouched cache."""

from __future__ import annotations

import gzip
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from helpers_archives import Member, cache_leftovers, distribution_members, minimal_metadata, write_archive

from relink.cli import main
from relink.errors import EXIT_CODES_HELP, ExitCode, RelinkError


def _tarinfo(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _with_member(member: Member) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        members = distribution_members(minimal_metadata())
        members.insert(3, member)
        return write_archive(tmp / "dist.tar.zst", members)

    return make


def _with_metadata(text: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        members = distribution_members(minimal_metadata())
        members[0] = ("python/PYTHON.json", text.encode())
        return write_archive(tmp / "dist.tar.zst", members)

    return make


def _document(change: Callable[[dict], object]) -> str:
    document = minimal_metadata()
    change(document)
    return json.dumps(document)


def _truncated(suffix: str, keep: float) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = write_archive(tmp / f"dist.{suffix}", distribution_members(minimal_metadata()))
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
        return path

    return make


def _corrupt(suffix: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = write_archive(tmp / f"dist.{suffix}", distribution_members(minimal_metadata()))
        data = bytearray(path.read_bytes())
        for offset in range(len(data) // 3, len(data) - 8, 7):
            data[offset] ^= 0xA5
        path.write_bytes(bytes(data))
        return path

    return make


def _not_an_archive(tmp: Path) -> Path:
    path = tmp / "notes.tar.zst"
    path.write_text("these are not the bytes you are looking for\n")
    return path


def _json_not_first(tmp: Path) -> Path:
    members = distribution_members(minimal_metadata())
    members[0], members[1] = members[1], members[0]
    return write_archive(tmp / "dist.tar.zst", members)


def _without_json(tmp: Path) -> Path:
    return write_archive(tmp / "dist.tar.gz", distribution_members(minimal_metadata())[1:])


def _tar_cut_between_members(tmp: Path) -> Path:
    # A well-formed zstd frame holding a tar that stops between two members (no end-of-archive block).
    path = write_archive(tmp / "full.tar", distribution_members(minimal_metadata()), compression="gzip")
    raw = gzip.decompress(path.read_bytes())
    cut = tmp / "dist.tar.zst"
    cut.write_bytes(zstandard.ZstdCompressor().compress(raw[: 512 * 4]))
    return cut


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "not an archive": (_not_an_archive, "not a .tar.zst or .tar.gz archive"),
    "truncated zstd": (_truncated("tar.zst", 0.6), "corrupt or truncated archive"),
    "truncated zstd early": (_truncated("tar.zst", 0.05), "corrupt or truncated archive"),
    "truncated gzip": (_truncated("tar.gz", 0.6), "corrupt or truncated archive"),
    "corrupt zstd": (_corrupt("tar.zst"), "corrupt or truncated archive"),
    "corrupt gzip": (_corrupt("tar.gz"), "corrupt or truncated archive"),
    "tar cut between members": (_tar_cut_between_members, "corrupt or truncated archive"),
    "no PYTHON.json": (_without_json, "not python/PYTHON.json"),
    "PYTHON.json not first": (_json_not_first, "not python/PYTHON.json"),
    "invalid JSON": (_with_metadata('{"version": "8", '), "not valid JSON"),
    "unsupported version": (_with_metadata(_document(lambda d: d.update(version="9"))), "unsupported PYTHON.json"),
    "missing field": (_with_metadata(_document(lambda d: d.pop("target_triple"))), "lacks required field"),
    "wrong type": (
        _with_metadata(_document(lambda d: d["build_info"]["core"].update(objs="x.o"))),
        "'build_info.core.objs' must be a list of strings",
    ),
    "JSON path escaping": (
        _with_metadata(_document(lambda d: d["build_info"]["core"]["objs"].append("../../../etc/passwd"))),
        "escapes the distribution root",
    ),
    "member with ..": (_with_member(("python/../../evil.sh", b"#!/bin/sh\n")), "refusing hostile archive member"),
    "absolute member": (_with_member(("/etc/evil.conf", b"x")), "is outside python/"),
    "member outside python/": (_with_member(("etc/evil.conf", b"x")), "is outside python/"),
    "symlink to absolute path": (
        _with_member((_tarinfo("python/build/evil", tarfile.SYMTYPE, "/etc/passwd"), None)),
        "refusing hostile archive member",
    ),
    "symlink climbing out": (
        _with_member((_tarinfo("python/build/evil", tarfile.SYMTYPE, "../../../etc/passwd"), None)),
        "refusing hostile archive member",
    ),
    "hardlink climbing out": (
        _with_member((_tarinfo("python/build/evil", tarfile.LNKTYPE, "../etc/passwd"), None)),
        "refusing hostile archive member",
    ),
    "device file": (
        _with_member((_tarinfo("python/build/null", tarfile.CHRTYPE), None)),
        "refusing hostile archive member",
    ),
    "fifo": (_with_member((_tarinfo("python/build/pipe", tarfile.FIFOTYPE), None)), "refusing hostile archive member"),
}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("RELINK_CACHE_DIR", str(root))
    return root


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_cleanly(case: str, tmp_path: Path, cache: Path) -> None:
    from relink.distribution.opener import open_distribution

    make, expected = CASES[case]
    path = make(tmp_path)
    with pytest.raises(RelinkError) as caught:
        open_distribution(path).extract()
    message = str(caught.value)
    assert caught.value.code == ExitCode.INVALID_INPUT
    assert expected in message
    assert message.startswith(str(path)) and "\n" not in message
    assert cache_leftovers(cache) == []
    assert not (tmp_path / "evil.sh").exists() and not (tmp_path.parent / "evil.sh").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_exit_code_and_one_line(
    case: str, tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = CASES[case][0](tmp_path)
    assert main(["extract", str(path)]) == ExitCode.INVALID_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"relink: error: {path}")
    assert cache_leftovers(cache) == []


@pytest.mark.parametrize("command", ["info", "extensions", "extract"])
def test_exit_codes_are_documented(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert EXIT_CODES_HELP in out
    assert "3    invalid input" in out


def test_missing_path_and_empty_folder(tmp_path: Path, cache: Path) -> None:
    from relink.distribution.opener import open_distribution

    with pytest.raises(RelinkError, match="no such file or folder"):
        open_distribution(tmp_path / "absent.tar.zst")
    with pytest.raises(RelinkError, match="has no python/PYTHON.json"):
        open_distribution(tmp_path)
