"""Several runs on one fresh cache, and runs that are interrupted or killed.

Concurrent `relink build`s of the same app on an empty cache all succeed with identical outputs; a killed
run's tools (here: real ninja running a job in its own process group, as it runs clang and lld) end with it;
its staging and scratch folders are swept by the next run; a failed link names a log that exists.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# A CMake project whose build is one long job; ninja gives it a process group of its own.
SLOW_PROJECT = """\
cmake_minimum_required(VERSION 3.26)
project(slow NONE)
add_custom_target(slow ALL COMMAND sleep {seconds} COMMENT "{marker}")
"""

DRIVER = """\
import signal, sys
from pathlib import Path
from relink.cli import _interrupt
from relink.support import configure_and_build
signal.signal(signal.SIGTERM, _interrupt)  # as relink's command line does
configure_and_build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
"""


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next((line for line in (entry / "status").read_text().splitlines()
                          if line.startswith("State:")), "")
        except OSError:
            continue
        if marker in command and "Z (zombie)" not in state:
            found.append(int(entry.name))
    return found


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_tools_end_with_relink(sig: signal.Signals, tmp_path: Path) -> None:
    seconds = 97 + int(sig)  # a sleep length unique to this case, to find its process
    project = tmp_path / "project"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(SLOW_PROJECT.format(seconds=seconds, marker=tmp_path.name))
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(project), str(tmp_path / "build"),
                               str(tmp_path / "build.log")])
    try:
        assert _wait_for(lambda: _processes_with(f"sleep {seconds}"), 60), "the job never started"
        driver.send_signal(sig)
        driver.wait(30)
        assert _wait_for(lambda: not _processes_with(f"sleep {seconds}"), 15), "the job outlived relink"
    finally:
        for pid in _processes_with(f"sleep {seconds}"):
            os.kill(pid, signal.SIGKILL)
        if driver.poll() is None:
            driver.kill()


def test_stale_staging_and_scratch_folders_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from relink.support import entry_lock, scratch_dir, staging_dir

    monkeypatch.setenv("RELINK_CACHE_DIR", str(tmp_path))
    entry = tmp_path / "interpreters" / "abc"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale_staging = tmp_path / "interpreters" / ".abc.x1y2.partial"
    stale_scratch = tmp_path / "tmp" / f"relink-project-{dead.pid}-k3j4"
    live_scratch = tmp_path / "tmp" / f"relink-project-{os.getpid()}-live"
    other_entry = tmp_path / "interpreters" / ".abd.x1y2.partial"
    for folder in (stale_staging, stale_scratch, live_scratch, other_entry):
        folder.mkdir(parents=True)
    with entry_lock(entry), staging_dir(entry) as staged:
        assert staged.is_dir() and not stale_staging.exists()
    with scratch_dir("relink-project") as scratch:
        assert scratch.is_dir() and not stale_scratch.exists()
    assert live_scratch.is_dir() and other_entry.is_dir()  # a live process's, another entry's: kept


@pytest.mark.slow
def test_concurrent_builds_on_a_fresh_cache(tmp_path: Path, elf_archive: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text("import json, zlib\nprint(json.dumps({'crc': zlib.crc32(b'relink')}))\n")
    env = {**os.environ, "RELINK_CACHE_DIR": str(tmp_path / "cache")}
    outputs = [tmp_path / f"app{index}" for index in range(4)]
    runs = [subprocess.Popen([sys.executable, "-m", "relink", "build", str(elf_archive), "--app", str(app),
                              "-o", str(out), "-q"], env=env, stderr=subprocess.PIPE, text=True)
            for out in outputs]
    errors = [run.communicate(timeout=600)[1] for run in runs]
    assert [run.returncode for run in runs] == [0] * len(runs), errors
    contents = {out.read_bytes() for out in outputs}
    assert len(contents) == 1
    result = subprocess.run([str(outputs[0])], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0 and '"crc"' in result.stdout
    assert not list((tmp_path / "cache").rglob("*.partial"))
