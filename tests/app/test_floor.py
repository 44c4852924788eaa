"""The default distribution's glibc floor is real: its apps run on Debian 11 (glibc 2.31) and need no
GLIBC symbol version newer than 2.17, the floor its PYTHON.json states."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from debian_root import run_in_root
from relink.distribution import open_distribution
from relink.errors import ExitCode

HELLO_APP = Path(__file__).resolve().parents[2] / "examples" / "hello-app" / "hello_app.py"
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "programs"

# Native modules of the stdlib with third-party libraries behind them: OpenSSL, SQLite, libffi, zlib, bzip2,
# xz, libuuid, libmpdec, expat, ncurses.
NATIVE_APP = '''\
import bz2, ctypes, decimal, hashlib, lzma, sqlite3, ssl, uuid, zlib
import xml.etree.ElementTree as ET
import _curses
db = sqlite3.connect(":memory:")
db.execute("create virtual table t using fts5(body)")
db.execute("insert into t values ('relink runs here')")
print(db.execute("select body from t where t match 'runs'").fetchone()[0])
print(ctypes.CDLL(None).strlen(b"four"), str(decimal.Decimal(1) / 7)[:6], hashlib.sha256(b"x").hexdigest()[:8])
print(len(lzma.compress(b"x")) > 0, bz2.decompress(bz2.compress(b"ok")).decode(), uuid.uuid4().version)
print(ET.fromstring("<a><b>expat</b></a>").find("b").text, ssl.OPENSSL_VERSION.split()[0])
'''


def _relink(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "relink", *args], capture_output=True, text=True)


def _build(archive: Path, app: Path, out: Path, *extra: str) -> dict:
    result = _relink("build", str(archive), "--app", str(app), "-o", str(out), "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _verify_floor(binary: Path) -> None:
    result = _relink("verify", str(binary), "--max-glibc", "2.17")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_default_distribution_states_the_217_floor(lto_archive):
    assert open_distribution(lto_archive).metadata.crt_features.glibc_max_version == (2, 17)


@pytest.mark.slow
def test_hello_app_runs_on_debian11(tmp_path, lto_archive, debian11_root):
    out = tmp_path / "hello"
    _build(lto_archive, HELLO_APP, out)
    _verify_floor(out)
    ran = run_in_root(debian11_root, out)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("hello from a local package") and '"pi": 3.14159' in ran.stdout


@pytest.mark.slow
def test_app_with_native_modules_runs_on_debian11(tmp_path, lto_archive, debian11_root):
    app = tmp_path / "native_app.py"
    app.write_text(NATIVE_APP)
    out = tmp_path / "native"
    built = _build(lto_archive, app, out, "--extensions", "auto,+_hashlib,+_decimal,+_uuid,+pyexpat", "--fast-link")
    assert {"_ssl", "_sqlite3", "_ctypes", "_uuid", "pyexpat", "_curses"} <= set(built["extensions"])
    _verify_floor(out)
    ran = run_in_root(debian11_root, out)
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert lines[0] == "relink runs here"
    assert lines[1] == "4 0.1428 2d711642"
    assert lines[2] == "True ok 4"
    assert lines[3] == "expat OpenSSL"


@pytest.mark.slow
@pytest.mark.parametrize("program, native", [("pydantic_model", "pydantic_core._pydantic_core"),
                                             ("yaml_roundtrip", "yaml._yaml")])
def test_corpus_app_with_native_modules_from_wheels_runs_on_debian11(program, native, tmp_path, lto_archive,
                                                                      debian11_root, corpus_site_packages):
    # Their wheels are manylinux2014 (glibc 2.17): they fit the floor, and so does the app.
    source = CORPUS / f"{program}.py"
    out = tmp_path / program
    built = _build(lto_archive, source, out, "--include", str(corpus_site_packages))
    assert native in built["native_modules"]
    _verify_floor(out)
    dist = open_distribution(lto_archive)
    stock = subprocess.run([str(dist.extract() / "python" / dist.metadata.python_exe), "-s", str(source)],
                           capture_output=True, text=True, env={"PYTHONPATH": str(corpus_site_packages),
                                                                "LANG": "C.UTF-8"})
    assert stock.returncode == 0 and stock.stdout, stock.stderr
    ran = run_in_root(debian11_root, out)
    assert (ran.returncode, ran.stdout) == (0, stock.stdout), ran.stderr


@pytest.mark.slow
def test_a_wheel_newer_than_the_floor_is_left_out_until_glibc_raises_the_floor(tmp_path, lto_archive,
                                                                                corpus_site_packages):
    # Pillow 13 ships wheels for glibc 2.27 and newer only.
    source = CORPUS / "pillow_png.py"
    out = tmp_path / "pillow"
    left_out = _build(lto_archive, source, out, "--include", str(corpus_site_packages))
    assert not any(name.startswith("PIL.") for name in left_out["native_modules"])
    assert any("'PIL._imaging'" in w and "--glibc 2.27 embeds them" in w for w in left_out["warnings"])
    _verify_floor(out)
    ran = subprocess.run([str(out)], capture_output=True, text=True)
    assert ran.returncode == 1 and "ImportError" in ran.stderr and "_imaging" in ran.stderr, ran.stderr
    strict = _relink("build", str(lto_archive), "--app", str(source), "--include", str(corpus_site_packages),
                     "-o", str(tmp_path / "strict"), "-q", "--strict")
    assert strict.returncode == ExitCode.INVALID_INPUT and len(strict.stderr.strip().splitlines()) == 1, strict.stderr
    assert "--strict refuses it" in strict.stderr and not (tmp_path / "strict").exists()
    raised = _build(lto_archive, source, out, "--include", str(corpus_site_packages), "--glibc", "2.27")
    assert "PIL._imaging" in raised["native_modules"]
    assert _relink("verify", str(out), "--max-glibc", "2.27").returncode == 0
    assert subprocess.run([str(out)], capture_output=True).returncode == 0
