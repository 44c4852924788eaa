"""`relink cache dir|size|prune|clean` on a private cache: sizes per folder, pruning by last use, and
removal that waits for (or, with --no-wait, refuses because of) relink processes using the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relink.errors import ExitCode

DAY = 86400
# A real relink process using the cache: it takes the cache (as every command does) and stays a while.
HOLD_CACHE = "import sys, time; from relink.support import cache_root; cache_root(); print('holding', flush=True); " \
             "time.sleep(float(sys.argv[1]))"


def _relink(cache: Path, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "relink", *argv], capture_output=True, text=True,
                            env={**os.environ, "RELINK_CACHE_DIR": str(cache)})
    if check:
        assert result.returncode == 0, result.stderr
    return result


def _entry(path: Path, size: int, idle_days: float, *, folder: bool = True) -> Path:
    stamp = time.time() - idle_days * DAY
    if folder:
        (path / "sub").mkdir(parents=True)
        (path / "sub" / "data").write_bytes(b"x" * size)
        for item in (path / "sub" / "data", path / "sub", path):
            os.utime(item, (stamp, stamp))
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
        os.utime(path, (stamp, stamp))
    return path


@pytest.fixture()
def cache(tmp_path: Path) -> Path:
    root = tmp_path / "cache"
    _entry(root / "interpreters" / "old", 300_000, 40)
    _entry(root / "interpreters" / "recent", 100_000, 2)
    _entry(root / "extracted" / "old-dist", 500_000, 31)
    _entry(root / "logs" / "build.log", 10_000, 90, folder=False)
    (root / "interpreters" / ".old.lock").write_text("")
    return root


def test_dir_and_size(cache: Path) -> None:
    assert _relink(cache, "cache", "dir").stdout.strip() == str(cache)
    sizes = json.loads(_relink(cache, "cache", "size", "--json").stdout)
    assert sizes["schema_version"] == 1 and sizes["root"] == str(cache)
    assert sizes["folders"]["interpreters"] >= 400_000 and sizes["folders"]["extracted"] >= 500_000
    assert sizes["total_bytes"] == sum(sizes["folders"].values())
    text = _relink(cache, "cache", "size").stdout
    assert text.splitlines()[0].startswith("extracted") and "total" in text.splitlines()[-1]


def test_prune_removes_only_entries_idle_longer_than_the_age(cache: Path) -> None:
    dry = json.loads(_relink(cache, "cache", "prune", "--older-than", "30d", "--dry-run", "--json").stdout)
    assert sorted(Path(r["path"]).name for r in dry["removed"]) == ["build.log", "old", "old-dist"]
    assert (cache / "interpreters" / "old").exists(), "--dry-run removes nothing"
    out = _relink(cache, "cache", "prune", "--older-than", "30d").stdout
    assert "removed 3 entries not used for 30d" in out and "kept 1" in out
    assert sorted(p.name for p in cache.rglob("*") if p.parent != cache) == ["data", "recent", "sub"]
    assert not (cache / "extracted").exists() and not (cache / "logs").exists()
    # Using an entry (reading a file in it: relatime updates an access time older than its change) makes it
    # recent again, so a 1-day prune keeps it.
    (cache / "interpreters" / "recent" / "sub" / "data").read_bytes()
    assert "removed 0 entries" in _relink(cache, "cache", "prune", "--older-than", "1").stdout
    bad = _relink(cache, "cache", "prune", "--older-than", "soon", check=False)
    assert bad.returncode == ExitCode.USAGE and bad.stderr.count("\n") == 1 and "--older-than 'soon'" in bad.stderr


def test_clean_waits_for_relink_processes_using_the_cache(cache: Path) -> None:
    env = {**os.environ, "RELINK_CACHE_DIR": str(cache)}
    holder = subprocess.Popen([sys.executable, "-c", HOLD_CACHE, "3"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        refused = _relink(cache, "cache", "clean", "--no-wait", check=False)
        assert refused.returncode == ExitCode.INVALID_INPUT and "other relink processes are using" in refused.stderr
        assert (cache / "interpreters" / "recent").exists()
        started = time.monotonic()
        cleaned = _relink(cache, "cache", "clean", "--json")
        assert holder.poll() is not None, "clean waited until the process using the cache had ended"
        assert time.monotonic() - started > 1 and "waiting for the other relink processes" in cleaned.stderr
    finally:
        holder.wait()
    assert json.loads(cleaned.stdout)["freed_bytes"] >= 900_000
    assert [p.name for p in cache.iterdir()] == [".in-use.lock"]


def test_a_relink_process_waits_while_the_cache_is_cleaned(cache: Path) -> None:
    """The other direction: a command starting during a clean waits for it, then finds an empty cache."""
    env = {**os.environ, "RELINK_CACHE_DIR": str(cache)}
    locker = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
              "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(2)")
    cleaner = subprocess.Popen([sys.executable, "-c", locker, str(cache / ".in-use.lock")], stdout=subprocess.PIPE,
                               text=True)
    try:
        assert cleaner.stdout is not None and cleaner.stdout.readline().strip() == "locked"
        user = subprocess.run([sys.executable, "-c", HOLD_CACHE, "0"], env=env, capture_output=True, text=True)
        assert cleaner.poll() is not None, "the relink process waited for the exclusive lock to go"
        assert "is being pruned or cleaned" in user.stderr
    finally:
        cleaner.wait()
