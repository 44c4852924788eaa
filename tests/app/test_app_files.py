"""Apps with packages, data, metadata and native modules from real wheels, built and run from the outside."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLEAN_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
MAIN = '''\
import importlib.metadata, importlib.resources, json, os, pkgutil, sys
import yaml, zmq
import resapp.plugins

result = {
    "argv": sys.argv[1:],
    "read_text": importlib.resources.files("resapp").joinpath("data/words.txt").read_text().strip(),
    "get_data": pkgutil.get_data("resapp", "data/words.txt").decode().strip(),
    "version": importlib.metadata.version("resapp"),
    "entry_points": [e.name for e in importlib.metadata.entry_points(group="resapp.plugins")],
    "plugin": resapp.plugins.load("shout")("hi"),
    "libyaml": yaml.__with_libyaml__ and yaml.load("[1, 2]", Loader=yaml.CSafeLoader) == [1, 2],
    "zmq": zmq.zmq_version_info() >= (4, 0),
    "memfd": sorted({line.split()[-2] if line.split()[-1] == "(deleted)" else line.split()[-1]
                     for line in open("/proc/self/maps") if "memfd:" in line}),
    "on_disk": sorted(n for n in os.listdir(os.environ.get("TMPDIR", "/tmp")) if n.startswith("relink-")),
}
with importlib.resources.as_file(importlib.resources.files("resapp") / "data/words.txt") as path:
    result["as_file"] = path.read_text().strip()
# Code that reads its data through __file__ paths, inside the executable.
import pathlib, resapp
here = pathlib.Path(resapp.__file__).parent
with open(here / "data" / "words.txt") as f:
    result["dunder_file"] = [f.read().strip(), os.listdir(here / "data"), (here / "data").is_dir(),
                             os.path.isfile(here / "data" / "words.txt"), (here / "nothing").exists()]
# Hundreds of resources looked up one by one (tzdata's zones, pyfiglet's fonts) share one parsed zip directory.
import zipfile
parses = []
real_contents = zipfile.ZipFile._RealGetContents
zipfile.ZipFile._RealGetContents = lambda self: parses.append(1) or real_contents(self)
many = [importlib.resources.files("resapp").joinpath(f"data/many/{i}.txt").read_text() for i in range(300)]
result["many"] = [len(set(many)), len(parses), len(os.listdir(here / "data" / "many"))]
try:
    open(here / "data" / "new.txt", "w")
except OSError as error:
    result["write"] = error.errno
print(json.dumps(result))
if "--fail" in sys.argv:
    resapp.plugins.load("broken")
'''


def _project(root: Path) -> Path:
    app = root / "src"
    (app / "resapp" / "data").mkdir(parents=True)
    (app / "resapp" / "__init__.py").write_text("")
    (app / "resapp" / "__main__.py").write_text(MAIN)
    (app / "resapp" / "data" / "words.txt").write_text("hello from data\n")
    (app / "resapp" / "data" / "many").mkdir()
    for i in range(300):
        (app / "resapp" / "data" / "many" / f"{i}.txt").write_text(f"resource {i}\n")
    (app / "resapp" / "plugins.py").write_text(
        "import importlib\n\ndef load(name):\n    return importlib.import_module('resapp.plugin_' + name).run\n")
    (app / "resapp" / "plugin_shout.py").write_text("def run(text):\n    return text.upper()\n")
    (app / "resapp" / "plugin_broken.py").write_text("\n\ndef run(text):\n    return text\n\nraise RuntimeError('broken plugin')\n")
    info = app / "resapp-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: resapp\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text("[resapp.plugins]\nshout = resapp.plugin_shout:run\n")
    (info / "RECORD").write_text("resapp/__init__.py,,\nresapp-1.2.3.dist-info/METADATA,,\n")
    return app


@pytest.fixture(scope="module")
def built(tmp_path_factory, elf_archive, corpus_site_packages):
    root = tmp_path_factory.mktemp("resapp")
    app = _project(root)
    out = root / "resapp"
    # pyzmq 27's wheel is for glibc 2.26 and newer: the app's floor is raised to it.
    result = subprocess.run([sys.executable, "-m", "relink", "build", str(elf_archive), "--json", "--app", str(app),
                             "--entry", "resapp", "--include", str(corpus_site_packages), "-o", str(out),
                             "--glibc", "2.26"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    shutil.rmtree(app)  # nothing may be read from the build machine's files
    return out, json.loads(result.stdout)


def _run(exe: Path, *args: str, env: dict | None = None, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env={**CLEAN_ENV, **(env or {})}, cwd=cwd)


def test_entry_package_data_metadata_and_native_modules_from_memory(built, tmp_path):
    exe, build = built
    assert {"yaml._yaml", "zmq.backend.cython._zmq"} <= set(build["native_modules"])
    run = _run(exe, "a", "b", cwd=tmp_path, env={"TMPDIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["argv"] == ["a", "b"], "--entry PACKAGE runs PACKAGE.__main__ like python -m"
    assert result["read_text"] == result["get_data"] == result["as_file"] == "hello from data"
    assert result["dunder_file"] == ["hello from data", ["many", "words.txt"], True, True, False]
    assert result["many"] == [300, 0, 300], "one zip directory parse for every resource, not one each"
    assert result["write"] == 30, "EROFS: the executable's files are read-only"
    assert result["version"] == "1.2.3" and result["entry_points"] == ["shout"] and result["plugin"] == "HI"
    assert result["libyaml"] and result["zmq"]
    # Loaded from anonymous in-memory files: the extension and the libraries auditwheel bundled for it.
    assert any(m.startswith("/memfd:_yaml.cpython-311") for m in result["memfd"]), result["memfd"]
    assert any(m.startswith("/memfd:libzmq-") for m in result["memfd"]) and any("libsodium" in m for m in result["memfd"])
    assert result["on_disk"] == [] and os.listdir(tmp_path) == []


def test_private_folder_when_memory_files_are_unavailable(built, tmp_path):
    exe, _ = built
    run = _run(exe, cwd=tmp_path, env={"TMPDIR": str(tmp_path), "RELINK_NO_MEMFD": "1"})
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["memfd"] == [] and result["libyaml"] and result["zmq"]
    assert len(result["on_disk"]) == 1, "one private folder while running"
    assert os.listdir(tmp_path) == [], "removed at exit"


def test_traceback_names_app_files_relative_to_the_app(built, tmp_path):
    exe, _ = built
    run = _run(exe, "--fail", cwd=tmp_path)
    assert run.returncode == 1
    assert 'File "resapp/plugin_broken.py", line 6, in <module>' in run.stderr, run.stderr
    assert "RuntimeError: broken plugin" in run.stderr
    assert str(Path.home()) not in run.stderr and "/tmp/pytest" not in run.stderr
