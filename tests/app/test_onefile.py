"""`relink build`: single-file executables checked from the outside, on real source-built distributions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from relink.cli import main
from relink.errors import ExitCode

APP = '''\
import hashlib, json, math, sys, zlib
import shapes
data = json.dumps({"area": shapes.area(2.0), "crc": zlib.crc32(b"relink"), "sha": hashlib.sha256(b"x").hexdigest()[:8]})
print(data, sys.argv[1:], sys.path)
'''
CLEAN_ENV = {"PATH": "/usr/bin:/bin", "PYTHONPATH": "/nonexistent", "PYTHONHOME": "/nonexistent"}


def _app(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shapes").mkdir(exist_ok=True)
    (folder / "shapes" / "__init__.py").write_text("import math\n\ndef area(r):\n    return round(math.pi * r * r, 3)\n")
    (folder / "app.py").write_text(APP)
    return folder / "app.py"


def _build(*argv: str) -> dict:
    """Run `relink build --json …` in this process; returns the result JSON (stdout)."""
    result = subprocess.run([sys.executable, "-m", "relink", "build", "--json", *argv], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("relink-cache")


@pytest.fixture()
def cache(private_cache, monkeypatch):
    monkeypatch.setenv("RELINK_CACHE_DIR", str(private_cache))
    return private_cache


def test_app_runs_alone_in_an_empty_directory(tmp_path, elf_archive, cache):
    script = _app(tmp_path / "src")
    out = tmp_path / "out" / "app"
    out.parent.mkdir()
    result = _build(str(elf_archive), "--app", str(script), "-o", str(out))
    assert {"_json", "math", "zlib", "_sha256"} <= set(result["extensions"])
    assert "_sqlite3" not in result["extensions"]
    lonely = tmp_path / "empty" / "app"
    lonely.parent.mkdir()
    shutil.copy2(out, lonely)
    # Make the distribution and the app's sources unreachable: only the file itself may be read.
    shutil.rmtree(cache / "extracted")
    shutil.rmtree(tmp_path / "src")
    run = subprocess.run([str(lonely), "--flag", "x"], capture_output=True, text=True, env=CLEAN_ENV,
                         cwd=lonely.parent)
    assert run.returncode == 0, run.stderr
    payload = run.stdout.rsplit(" [", 2)[0]
    assert json.loads(payload) == {"area": 12.566, "crc": 2970792889, "sha": "2d711642"}
    assert f"['--flag', 'x'] ['{lonely}'" in run.stdout, "app gets every argument; sys.path is the file itself"


def test_no_compress_stores_the_payload_and_needs_no_zlib(tmp_path, elf_archive, cache):
    script = tmp_path / "app.py"
    script.write_text("import json\nprint(json.dumps({'stored': True}))\n")
    outputs = {}
    for variant, flags in (("deflated", ()), ("stored", ("--no-compress",))):
        out = tmp_path / variant
        result = _build(str(elf_archive), "--app", str(script), "-o", str(out), *flags)
        run = subprocess.run([str(out)], capture_output=True, text=True, env=CLEAN_ENV, cwd=tmp_path)
        assert (run.returncode, run.stdout) == (0, '{"stored": true}\n'), run.stderr
        outputs[variant] = (result, out)
    import zipfile
    deflated, stored = (zipfile.ZipFile(outputs[v][1]).infolist() for v in ("deflated", "stored"))
    assert {i.compress_type for i in deflated} == {zipfile.ZIP_DEFLATED}
    assert {i.compress_type for i in stored} == {zipfile.ZIP_STORED}
    assert [i.filename for i in deflated] == [i.filename for i in stored]
    assert "zlib" in outputs["deflated"][0]["extensions"], "zipimport inflates with zlib"
    assert "zlib" not in outputs["stored"][0]["extensions"]


def test_build_writes_licenses_and_verifies_against_the_plan(tmp_path, elf_archive, cache):
    from relink.app.build import verify_interpreter
    from relink.distribution.opener import open_distribution
    from relink.errors import RelinkError
    from relink.plan.selection import make_plan
    from relink.support.cmake_runner import configure_and_build
    from relink.toolchain import link_target, target_toolchain_file

    out = tmp_path / "new" / "folders" / "app"  # -o creates missing folders
    result = _build(str(elf_archive), "--app", str(_app(tmp_path / "src")), "-o", str(out))
    licenses = Path(result["licenses"])
    assert licenses == out.parent / "app.LICENSES.txt"
    assert out.stat().st_mode & 0o777 == 0o755 and licenses.stat().st_mode & 0o777 == 0o644
    text = licenses.read_text()
    assert "Python-2.0" in text and "Zlib" in text and "OpenSSL" not in text
    verify = json.loads((Path(result["interpreter"]).parent / "verify.json").read_text())
    assert verify["problems"] == []
    # The same unstripped binary checked against another plan: the contradiction fails the build.
    dist = open_distribution(elf_archive)
    subprocess.run([sys.executable, "-m", "relink", "generate", str(elf_archive), "-o", str(tmp_path / "proj"),
                    "--extensions", "minimal"], check=True, capture_output=True)
    # Linked for the distribution's floor, as relink build links (the host's glibc would contradict it too).
    configure_and_build(tmp_path / "proj", tmp_path / "b", tmp_path / "log",
                        toolchain_file=target_toolchain_file(link_target(dist.metadata)))
    with pytest.raises(RelinkError, match="contradicts the plan: inittab lacks expected builtin modules: _json, zlib") \
            as error:
        verify_interpreter(tmp_path / "b" / "python", make_plan(dist, "minimal,+zlib,+_json"), dist,
                           tmp_path / "verify.json")
    assert error.value.code == ExitCode.VERIFY_FAILED


def test_interpreter_mode_takes_the_usual_command_line(tmp_path, elf_archive, cache):
    out = tmp_path / "python"
    _build(str(elf_archive), "--extensions", "minimal,+_json,+zlib,+math,+_datetime", "--stdlib", "full",
           "-o", str(out))
    assert subprocess.run([str(out), "-c", "import json; print(json.dumps([1]))"], capture_output=True, text=True,
                          env=CLEAN_ENV).stdout == "[1]\n"
    (tmp_path / "script.py").write_text("import sys; print('script', sys.argv[1])\n")
    assert subprocess.run([str(out), str(tmp_path / "script.py"), "a"], capture_output=True, text=True,
                          env=CLEAN_ENV).stdout == "script a\n"
    module = subprocess.run([str(out), "-m", "json.tool"], input='{"b": 1}', capture_output=True, text=True,
                            env=CLEAN_ENV)
    assert module.returncode == 0 and json.loads(module.stdout) == {"b": 1}
    # minimal leaves sqlite out: Python's normal ImportError, not a crash.
    missing = subprocess.run([str(out), "-c", "import sqlite3"], capture_output=True, text=True, env=CLEAN_ENV)
    assert missing.returncode == 1
    assert "ModuleNotFoundError: No module named '_sqlite3'" in missing.stderr


def test_default_links_the_libraries(tmp_path, elf_archive, cache):
    out = tmp_path / "python"
    _build(str(elf_archive), "--extensions", "default", "-o", str(out))
    run = subprocess.run([str(out), "-c", "import sqlite3, ssl, decimal, ctypes, lzma, bz2; "
                          "print(sqlite3.sqlite_version, ssl.OPENSSL_VERSION.split()[0], decimal.Decimal('1.10') + 1)"],
                         capture_output=True, text=True, env=CLEAN_ENV)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split()[1:] == ["OpenSSL", "2.10"]
    needed = subprocess.run(["llvm-readelf-22", "--needed-libs", str(out)], capture_output=True, text=True).stdout
    assert "libssl" not in needed and "libsqlite3" not in needed, "third-party libraries are linked statically"


def test_app_only_change_does_not_relink(tmp_path, elf_archive, cache):
    script = _app(tmp_path / "src")
    out = tmp_path / "app"
    first = _build(str(elf_archive), "--app", str(script), "-o", str(out))
    script.write_text(APP + "print('changed')\n")
    second = _build(str(elf_archive), "--app", str(script), "-o", str(out))
    assert second["relinked"] is False
    assert "compile and link" not in [step["name"] for step in second["steps"]]
    assert second["interpreter"] == first["interpreter"]
    assert subprocess.run([str(out)], capture_output=True, text=True, env=CLEAN_ENV).stdout.endswith("changed\n")


def test_two_builds_are_byte_identical(tmp_path, elf_archive, monkeypatch):
    script = _app(tmp_path / "src")
    outputs = []
    for n in (1, 2):
        # Separate caches: the second build really compiles and links again.
        monkeypatch.setenv("RELINK_CACHE_DIR", str(tmp_path / f"cache{n}"))
        out = tmp_path / f"app{n}"
        assert _build(str(elf_archive), "--app", str(script), "-o", str(out))["relinked"] is True
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_lto_build_runs(tmp_path, lto_archive, cache):
    """One ThinLTO link of bitcode objects with the pinned clang/lld (the PBS pgo+lto case)."""
    script = _app(tmp_path / "src")
    out = tmp_path / "app"
    result = _build(str(lto_archive), "--app", str(script), "-o", str(out))
    assert result["size"] < 6_500_000
    assert subprocess.run([str(out)], capture_output=True, text=True, env=CLEAN_ENV).returncode == 0


def test_fast_link_relinks_only_what_changed(tmp_path, lto_archive, cache):
    """--fast-link: ThinLTO without cross-module importing keeps the other objects' cache entries valid."""
    script = _app(tmp_path / "src")
    _build(str(lto_archive), "--app", str(script), "--fast-link", "-o", str(tmp_path / "a"))
    entries = set((cache / "thinlto").iterdir())
    _build(str(lto_archive), "--app", str(script), "--fast-link", "--extensions", "auto,+_bisect",
           "-o", str(tmp_path / "b"))
    new = set((cache / "thinlto").iterdir()) - entries
    assert 0 < len(new) <= 3, "only the changed objects (config.c, the new extension) were compiled again"
    run = subprocess.run([str(tmp_path / "b"), "x"], capture_output=True, text=True, env=CLEAN_ENV)
    assert run.returncode == 0 and "['x']" in run.stdout


# Bad input: one clear line, a documented code, no partial output.

def _fails(capsys, *argv) -> tuple[int, list[str]]:
    code = main(["build", "-q", *map(str, argv)])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("case", ["missing-app", "bad-entry", "syntax", "excluded", "no-folder"])
def test_bad_input(case, tmp_path, elf_archive, cache, capsys):
    script = _app(tmp_path / "src")
    out = tmp_path / "app"
    args = [elf_archive, "-o", out]
    expected = {
        "missing-app": (["--app", tmp_path / "nope.py"], "nope.py: app not found"),
        "bad-entry": (["--app", tmp_path / "src", "--entry", "shapes:volume"],
                      "entry function 'volume' is not defined in module 'shapes'"),
        "syntax": (["--app", script], "shapes/__init__.py:2: SyntaxError"),
        "excluded": (["--app", script, "--exclude", "zlib"], "module 'zlib' is excluded (--exclude) but imported by"),
        "no-folder": (["--app", script], "is not a folder, so the output folder cannot be created"),
    }
    extra, message = expected[case]
    if case == "syntax":
        (tmp_path / "src" / "shapes" / "__init__.py").write_text("import math\ndef area(r:\n")
    if case == "no-folder":
        (tmp_path / "a-file").write_text("")
        out = tmp_path / "a-file" / "missing" / "app"
        args = [elf_archive, "-o", out]
    code, err = _fails(capsys, *args, *extra)
    assert code == ExitCode.INVALID_INPUT
    assert len(err) == 1 and message in err[0]
    assert not out.exists() and not list(out.parent.glob(".*partial")) if out.parent.exists() else True


@pytest.fixture()
def tiny_filesystem(tmp_path):
    """A 2 MiB tmpfs: too small for any executable (needs root, as CI has)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_disk_full_leaves_no_partial_output(tiny_filesystem, tmp_path, elf_archive, cache, capsys):
    script = _app(tmp_path / "src")
    out = tiny_filesystem / "app"
    code, err = _fails(capsys, elf_archive, "--app", script, "-o", out)
    assert code == ExitCode.INVALID_INPUT
    assert len(err) == 1 and "disk full while writing the executable" in err[0]
    assert list(tiny_filesystem.iterdir()) == []


def test_read_only_output_folder(tiny_filesystem, tmp_path, elf_archive, cache, capsys):
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_filesystem)], check=True)
    code, err = _fails(capsys, elf_archive, "--app", _app(tmp_path / "src"), "-o", tiny_filesystem / "app")
    assert code == ExitCode.INVALID_INPUT
    assert len(err) == 1 and "is not writable" in err[0]
