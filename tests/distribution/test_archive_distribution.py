"""Opening real .tar.zst/.tar.gz archives, folders and bare PYTHON.json files; the extraction cache."""

from __future__ import annotations

import concurrent.futures
import json
import os
import time
from pathlib import Path

import pytest
from helpers_archives import (
    SAMPLES,
    cache_leftovers,
    distribution_members,
    minimal_metadata,
    object_bytes,
    write_archive,
)

from relink.distribution.extraction import archive_sha256
from relink.distribution.opener import Distribution, open_distribution
from relink.errors import ExitCode, RelinkError


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("RELINK_CACHE_DIR", str(root))
    return root


@pytest.fixture(params=["tar.zst", "tar.gz"])
def archive(request: pytest.FixtureRequest, tmp_path: Path, cache: Path) -> Path:
    return write_archive(tmp_path / f"dist.{request.param}", distribution_members(minimal_metadata()))


def entry_of(path: Path, cache: Path) -> Path:
    return cache / "extracted" / archive_sha256(path)


def test_open_archive_reads_metadata_only(archive: Path, cache: Path) -> None:
    dist = open_distribution(archive)
    assert isinstance(dist, Distribution) and not dist.is_metadata_only
    assert dist.source == archive
    assert dist.archive_size == archive.stat().st_size
    assert dist.metadata.python_version == "3.11.2"
    assert not (cache / "extracted").exists()  # opening extracts nothing


def test_metadata_is_read_without_decompressing_the_rest(tmp_path: Path, cache: Path) -> None:
    # A valid first member followed by a large member whose compressed bytes are then corrupted: opening
    # must succeed (it stops after PYTHON.json); a full pass must fail on the corruption.
    members = distribution_members(minimal_metadata())
    members.insert(1, ("python/build/zz-large.bin", os.urandom(4 << 20)))
    path = write_archive(tmp_path / "tail.tar.zst", members)
    data = bytearray(path.read_bytes())
    for offset in range(len(data) - 200_000, len(data) - 1000, 997):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))
    started = time.perf_counter()
    dist = open_distribution(path)
    assert time.perf_counter() - started < 0.5
    assert dist.metadata.target_triple == "x86_64-unknown-linux-gnu"
    with pytest.raises(RelinkError, match="corrupt or truncated archive"):
        dist.extract()
    assert cache_leftovers(cache) == []


def test_extract_everything(archive: Path, cache: Path) -> None:
    dist = open_distribution(archive)
    root = dist.extract()
    assert root == entry_of(archive, cache)
    assert (root / "python" / "PYTHON.json").is_file()
    assert json.loads((root / "python" / "PYTHON.json").read_text())["version"] == "8"
    obj = root / "python" / "build" / "Objects" / "abstract.o"
    assert obj.read_bytes() == object_bytes("build/Objects/abstract.o")
    assert os.readlink(root / "python" / "install" / "bin" / "python3") == "python3.11"
    assert os.access(root / "python" / "install" / "bin" / "python3.11", os.X_OK)
    # A second run (another process, same content) reuses the entry without rewriting anything.
    stamp = obj.stat().st_mtime_ns, obj.stat().st_ino
    again = open_distribution(archive).extract()
    assert again == root and (obj.stat().st_mtime_ns, obj.stat().st_ino) == stamp
    assert [p for p in cache_leftovers(cache) if p.endswith(".partial")] == []


def test_path_extracts_listed_objects_in_one_pass(archive: Path, cache: Path) -> None:
    dist = open_distribution(archive)
    path = dist.path("build/Objects/abstract.o")
    assert path.read_bytes() == object_bytes("build/Objects/abstract.o")
    python = entry_of(archive, cache) / "python"
    # Every listed object and static library came with it; the install tree did not.
    for rel in dist.metadata.build_info.listed_paths():
        assert (python / rel).is_file(), rel
    assert not (python / "install").exists()
    assert dist.path("build/lib/libssl.a").is_file()


def test_path_of_an_unlisted_member_extracts_just_it(archive: Path, cache: Path) -> None:
    dist = open_distribution(archive)
    header = dist.path("install/include/python3.11/Python.h")
    assert header.read_bytes() == object_bytes("install/include/python3.11/Python.h")
    assert not (entry_of(archive, cache) / "python" / "build").exists()


def test_extract_selected_members_and_folders(archive: Path, cache: Path) -> None:
    dist = open_distribution(archive)
    root = dist.extract(["install/include/python3.11", "build/Modules/config.c"])
    python = root / "python"
    assert sorted(p.name for p in (python / "install/include/python3.11").iterdir()) == ["Python.h", "object.h"]
    assert (python / "build/Modules/config.c").is_file()
    assert not (python / "build/Objects").exists()
    # Adding more later merges into the same entry.
    assert dist.extract(["build/Objects"]) == root
    assert (python / "build/Objects/abstract.o").is_file() and (python / "build/Modules/config.c").is_file()
    assert dist.extract() == root and (python / "install/bin/python3.11").is_file()


def test_unknown_member_is_refused_and_leaves_nothing(archive: Path, cache: Path) -> None:
    dist = open_distribution(archive)
    with pytest.raises(RelinkError) as caught:
        dist.path("build/Objects/nope.o")
    assert "no member python/build/Objects/nope.o" in str(caught.value)
    assert str(archive) in str(caught.value)
    assert cache_leftovers(cache) == []
    dist.extract(["build/Objects"])
    with pytest.raises(RelinkError, match="no member python/nowhere"):
        dist.extract(["nowhere"])  # answered from the index, without another pass


@pytest.mark.parametrize("rel", ["../../etc/passwd", "/etc/passwd", "build/../../x.o", ""])
def test_path_refuses_escapes(archive: Path, cache: Path, rel: str) -> None:
    with pytest.raises(RelinkError, match="escapes the distribution root") as caught:
        open_distribution(archive).path(rel)
    assert caught.value.code == ExitCode.INVALID_INPUT
    assert cache_leftovers(cache) == []


def test_sha256_is_memoized_per_path_size_and_mtime(archive: Path, cache: Path) -> None:
    import hashlib

    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert archive_sha256(archive) == digest
    memos = list((cache / "sha256").iterdir())
    assert len(memos) == 1 and memos[0].read_text() == digest
    assert archive_sha256(archive) == digest and len(list((cache / "sha256").iterdir())) == 1
    os.utime(archive, ns=(1, 1))  # a touched file is hashed again (to the same digest)
    assert archive_sha256(archive) == digest and len(list((cache / "sha256").iterdir())) == 2


def test_a_leftover_partial_staging_dir_is_never_trusted(archive: Path, cache: Path) -> None:
    entry = entry_of(archive, cache)
    stale = entry.parent / f".{entry.name}.killed.partial" / "python" / "build" / "Objects"
    stale.mkdir(parents=True)
    (stale / "abstract.o").write_bytes(b"half")
    assert open_distribution(archive).path("build/Objects/abstract.o").read_bytes() == object_bytes(
        "build/Objects/abstract.o"
    )
    assert not stale.exists()


def _extract_in_another_process(path: str, cache: str) -> tuple[str, bytes]:
    os.environ["RELINK_CACHE_DIR"] = cache
    root = open_distribution(path).extract()
    return str(root), (root / "python" / "build" / "Python" / "ceval.o").read_bytes()


def test_concurrent_extractions_agree(tmp_path: Path, cache: Path) -> None:
    members = distribution_members(minimal_metadata())
    members += [(f"python/install/lib/python3.11/mod{i}.py", os.urandom(20_000)) for i in range(200)]
    path = write_archive(tmp_path / "big.tar.zst", members)
    with concurrent.futures.ProcessPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(_extract_in_another_process, [str(path)] * 4, [str(cache)] * 4))
    assert len({root for root, _ in results}) == 1
    assert all(data == object_bytes("build/Python/ceval.o") for _, data in results)
    root = Path(results[0][0])
    assert len(list((root / "python" / "install" / "lib" / "python3.11").iterdir())) == 200
    assert [p for p in cache_leftovers(cache) if ".partial" in p] == []


def test_folder_distribution(archive: Path, cache: Path, tmp_path: Path) -> None:
    root = open_distribution(archive).extract()
    for source in (root, root / "python"):
        dist = open_distribution(source)
        assert not dist.is_metadata_only and dist.archive_size is None
        assert dist.extract() == root
        assert dist.path("build/Python/ceval.o") == (root / "python/build/Python/ceval.o").resolve()
        sizes = dist.member_sizes()
        assert sizes is not None and sizes["build/lib/libssl.a"] == len(object_bytes("build/lib/libssl.a"))
    with pytest.raises(RelinkError, match="does not exist"):
        open_distribution(root).path("build/missing.o")


def test_folder_symlink_escaping_is_refused(tmp_path: Path, cache: Path) -> None:
    python = tmp_path / "tree" / "python"
    (python / "build").mkdir(parents=True)
    (python / "PYTHON.json").write_text(json.dumps(minimal_metadata()))
    (tmp_path / "secret.o").write_bytes(b"x")
    (python / "build" / "evil.o").symlink_to(tmp_path / "secret.o")
    with pytest.raises(RelinkError, match="resolves outside the distribution"):
        open_distribution(tmp_path / "tree").path("build/evil.o")


def test_bare_python_json_is_metadata_only(cache: Path) -> None:
    sample = SAMPLES / "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
    dist = open_distribution(sample)
    assert dist.is_metadata_only and dist.archive_size is None and dist.member_sizes() is None
    assert dist.metadata.python_version == "3.12.7"
    for action in (lambda: dist.path("build/Objects/abstract.o"), dist.extract):
        with pytest.raises(RelinkError, match="metadata only") as caught:
            action()
        assert caught.value.code == ExitCode.INVALID_INPUT and str(sample) in str(caught.value)


def test_archive_member_sizes(archive: Path, cache: Path) -> None:
    sizes = open_distribution(archive).member_sizes()
    assert sizes is not None
    assert sizes["build/Modules/_ssl.o"] == len(object_bytes("build/Modules/_ssl.o"))
    assert not entry_of(archive, cache).exists()  # indexing extracts nothing
    assert (cache / "archive-index" / f"{archive_sha256(archive)}.json").is_file()


def test_directory_entries_are_accepted(tmp_path: Path, cache: Path) -> None:
    import tarfile

    members = distribution_members(minimal_metadata())
    for name in ("python", "python/build", "python/build/Objects"):
        folder = tarfile.TarInfo(name)
        folder.type = tarfile.DIRTYPE
        members.insert(1, (folder, None))
    path = write_archive(tmp_path / "dirs.tar.gz", members)
    dist = open_distribution(path)
    root = dist.extract()
    assert (root / "python" / "build" / "Objects" / "abstract.o").is_file()
    assert dist.extract(["build/Objects"]) == root


def test_killed_extraction_leaves_nothing_trusted(tmp_path: Path, cache: Path) -> None:
    import signal
    import subprocess
    import sys

    members = distribution_members(minimal_metadata())
    members += [(f"python/install/share/blob{i}.bin", os.urandom(1 << 20)) for i in range(24)]
    path = write_archive(tmp_path / "slow.tar.zst", members)
    entry = entry_of(path, cache)
    code = "import sys; from relink.distribution.opener import open_distribution; open_distribution(sys.argv[1]).extract()"
    env = {**os.environ, "RELINK_CACHE_DIR": str(cache)}
    child = subprocess.Popen([sys.executable, "-c", code, str(path)], env=env)
    deadline = time.monotonic() + 30
    while child.poll() is None and not list(entry.parent.glob("*.partial")) and time.monotonic() < deadline:
        time.sleep(0.005)
    killed_mid_pass = child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait()
    if killed_mid_pass:
        assert not entry.exists()  # the staged half is never published
    root = open_distribution(path).extract()
    assert not list(entry.parent.glob("*.partial"))  # the dead process's staging dir is cleaned up
    assert (root / "python" / "install" / "share" / "blob23.bin").stat().st_size == 1 << 20
    assert (root / "python" / "build" / "Objects" / "abstract.o").read_bytes() == object_bytes(
        "build/Objects/abstract.o"
    )


def test_source_built_archives_keep_empty_folders(tmp_path: Path, cache: Path) -> None:
    """relink dist build's writer keeps a folder `make install` left empty (python3 looks for its
    lib-dynload at start), and relink's own extraction recreates it."""
    from relink.distribution.srcbuild.package import write_archive as write_source_built

    stage = tmp_path / "stage"
    (stage / "python" / "install" / "lib" / "python3.11" / "lib-dynload").mkdir(parents=True)
    (stage / "python" / "PYTHON.json").write_text(json.dumps(minimal_metadata()))
    for name, data in distribution_members(minimal_metadata()):
        if isinstance(name, str) and name != "python/PYTHON.json":
            (stage / name).parent.mkdir(parents=True, exist_ok=True)
            (stage / name).write_bytes(data)
    target = tmp_path / "cpython-built.tar.zst"
    write_source_built(stage, target, mtime=0)
    root = open_distribution(target).extract()
    assert (root / "python" / "install" / "lib" / "python3.11" / "lib-dynload").is_dir()
