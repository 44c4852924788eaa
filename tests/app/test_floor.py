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

HELLO_APP = Path(__file__).resolve().parents[2] / "examples" / "hello-app" / "hello_app.py"

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


def _build(archive: Path, app: Path, out: Path, *extra: str) -> dict:
    result = subprocess.run([sys.executable, "-m", "relink", "build", str(archive), "--app", str(app), "-o", str(out),
                             "--json", *extra], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _verify_floor(binary: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "relink", "verify", str(binary), "--max-glibc", "2.17"],
                            capture_output=True, text=True)
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
