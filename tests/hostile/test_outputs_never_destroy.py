"""Outputs never destroy: an output that is an input is refused, `generate -o DIR` touches only its own files,
and machine-level failures (an unusable cache folder, an out-of-range SOURCE_DATE_EPOCH) are one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers_archives import SAMPLES, distribution_members, minimal_metadata, write_archive

from relink.cli import main
from relink.errors import ExitCode

LINUX = SAMPLES / "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RELINK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cache"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    if code:
        assert err.count("\n") == 1 and err.startswith("relink: error: "), err
    return code, err


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_refuses_to_overwrite_its_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app = tmp_path / "app.py"
    app.write_text("print('mine')\n")
    include = tmp_path / "deps"
    include.mkdir()
    (include / "helper.py").write_text("X = 1\n")
    archive = write_archive(tmp_path / "dist.tar.zst", distribution_members(minimal_metadata()))
    (tmp_path / "link").symlink_to(app)
    before = _tree(tmp_path)
    cases = [
        ("--app", str(app), "-o", str(app)),
        ("--app", str(app), "-o", str(tmp_path / "link")),
        (str(archive), "--app", str(app), "-o", str(archive)),
        ("--app", str(app), "--include", str(include), "-o", str(include / "helper.py")),
        ("--app", str(tmp_path), "--entry", "app", "-o", str(app)),
        ("--app", str(app), "-o", str(tmp_path / "dist.tar.zst.LICENSES.txt").replace(".LICENSES.txt", ""),
         str(archive)),
    ]
    for argv in cases:
        code, err = _run(capsys, "build", *argv)
        assert code == ExitCode.USAGE and "the output" in err, (argv, err)
    assert _tree(tmp_path) == before


def test_licenses_refuses_to_overwrite_the_distribution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    metadata = tmp_path / "PYTHON.json"
    shutil.copyfile(LINUX, metadata)
    code, err = _run(capsys, "licenses", str(metadata), "--extensions", "none", "-o", str(metadata))
    assert code == ExitCode.USAGE and "is the distribution" in err
    assert metadata.read_bytes() == LINUX.read_bytes()


def test_generate_touches_only_its_own_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    old = tmp_path / ".out.old"  # a user folder with the name older versions used as a temporary
    old.mkdir()
    (old / "precious.txt").write_text("keep\n")
    assert _run(capsys, "generate", str(LINUX), "-o", str(out), "--format", "cmake")[0] == 0
    manifest = json.loads((out / ".relink-generated.json").read_text())["files"]
    assert sorted(manifest) == ["CMakeLists.txt", "config.c", "main.c", "plan.json"]

    # A user's own file in the output folder survives regeneration, and a format change removes only
    # relink's files that are no longer generated.
    (out / "notes.md").write_text("my notes\n")
    (out / "build").mkdir()
    (out / "build" / "cache.txt").write_text("cmake build tree\n")
    assert _run(capsys, "generate", str(LINUX), "-o", str(out), "--format", "json")[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [".relink-generated.json", "build", "notes.md", "plan.json"]
    assert (out / "notes.md").read_text() == "my notes\n" and (out / "build" / "cache.txt").is_file()

    # A generated file edited since is never overwritten: the command refuses and changes nothing.
    assert _run(capsys, "generate", str(LINUX), "-o", str(out), "--format", "cmake")[0] == 0
    (out / "main.c").write_text("/* my edits */\n")
    before = _tree(out)
    code, err = _run(capsys, "generate", str(LINUX), "-o", str(out), "--format", "cmake")
    assert code == ExitCode.INVALID_INPUT and "main.c was not written by relink or changed since" in err
    assert _tree(out) == before

    # A folder holding a plan.json relink did not record is not an earlier output.
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "plan.json").write_text("{}\n")
    (foreign / "CMakeLists.txt").write_text("project(mine)\n")
    code, err = _run(capsys, "generate", str(LINUX), "-o", str(foreign))
    assert code == ExitCode.INVALID_INPUT and "not an earlier relink output" in err
    assert _tree(foreign) == {"plan.json": b"{}\n", "CMakeLists.txt": b"project(mine)\n"}
    assert (old / "precious.txt").read_text() == "keep\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_generate_refuses_a_file_as_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    (tmp_path / "out").symlink_to(target)
    for out in (target, tmp_path / "out"):
        code, err = _run(capsys, "generate", str(LINUX), "-o", str(out))
        assert code == ExitCode.INVALID_INPUT and "is not a folder" in err
    assert target.read_text() == "mine\n"


def test_unusable_cache_folder_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    archive = write_archive(tmp_path / "dist.tar.zst", distribution_members(minimal_metadata()))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    for cache in (blocker, blocker / "below"):
        monkeypatch.setenv("RELINK_CACHE_DIR", str(cache))
        code, err = _run(capsys, "extract", str(archive))
        assert code == ExitCode.INVALID_INPUT and "set RELINK_CACHE_DIR" in err
    assert blocker.read_text() == "not a folder\n"


@pytest.mark.parametrize("value", ["99999999999999999999", "-1", "1e9", "253402300800"])
def test_source_date_epoch_out_of_range(value: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    code, err = _run(capsys, "licenses", str(LINUX), "--extensions", "none", "--format", "spdx")
    assert code == ExitCode.USAGE and "SOURCE_DATE_EPOCH" in err


def test_local_paths_that_would_inject_are_refused() -> None:
    from relink.distribution import open_distribution
    from relink.errors import RelinkError
    from relink.plan import make_plan
    from relink.render.files import render_files
    from relink.render.linkargs import cargo_lines

    plan = make_plan(open_distribution(LINUX), "minimal")
    with pytest.raises(RelinkError, match="control character"):
        cargo_lines(plan, "/tmp/x\ncargo:rustc-link-arg=-Wl,--wrap=main", "/tmp/lib")
    with pytest.raises(RelinkError, match="quote, backslash"):
        render_files(plan, '/tmp/x")\nexecute_process(COMMAND id)\n#', ["cmake"])
    with pytest.raises(RelinkError, match="--name"):
        render_files(plan, "/tmp/x", ["cmake"], name="x)\nexecute_process(COMMAND id)#")
    assert 'set(RELINK_PYTHON_DIR "/tmp/my dir"' in render_files(plan, "/tmp/my dir", ["cmake"])["CMakeLists.txt"]


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A 512 KiB tmpfs (root only; skipped where mounting is not permitted)."""
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)  # lazy: a lock file may still be open


def test_disk_full_is_one_line_and_leaves_nothing(tiny_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import os

    members = distribution_members(minimal_metadata())
    members.append(("python/install/lib/big.bin", os.urandom(1 << 20)))
    archive = write_archive(tmp_path / "dist.tar.zst", members)
    monkeypatch.setenv("RELINK_CACHE_DIR", str(tiny_disk / "cache"))
    code, err = _run(capsys, "extract", str(archive))
    assert code == ExitCode.INVALID_INPUT and "No space left on device" in err
    assert not [p for p in (tiny_disk / "cache" / "extracted").iterdir() if not p.name.endswith(".lock")]

    monkeypatch.setenv("RELINK_CACHE_DIR", str(tmp_path / "cache"))
    try:  # fill the disk
        with open(tiny_disk / "filler", "wb") as filler:
            while True:
                filler.write(bytes(4096))
                filler.flush()
    except OSError:
        pass
    code, err = _run(capsys, "licenses", str(LINUX), "--extensions", "default", "-o", str(tiny_disk / "L.txt"))
    assert code == ExitCode.INVALID_INPUT and "disk full" in err
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["cache", "filler"]
