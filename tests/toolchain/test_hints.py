"""Install hints fit how relink was installed: a checkout names its own toolchain/setup.sh, a wheel (no
setup script beside the package) the package manager's command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from relink.resources import source_checkout
from relink.toolchain import hints, install_hint

REPO = Path(__file__).resolve().parents[2]


def test_checkout_names_its_setup_script() -> None:
    assert source_checkout() == REPO
    assert install_hint("llvm") == f"run 'bash {REPO}/toolchain/setup.sh' (as root)"


@pytest.mark.parametrize("need, expected", [
    ("llvm", "install them with your package manager, e.g. 'apt-get install clang-22 lld-22 llvm-22'"),
    ("dev", "'apt-get install zlib1g-dev libbz2-dev"),
    ("deb-src", "add a deb-src line"),
])
def test_wheel_gets_the_package_manager_line(monkeypatch: pytest.MonkeyPatch, need: str, expected: str) -> None:
    monkeypatch.setattr(hints, "source_checkout", lambda: None)
    assert expected in install_hint(need) and "setup.sh" not in install_hint(need)


@pytest.mark.slow
def test_missing_compiler_message_carries_the_hint(elf_archive: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "relink", "toolchain", "check", str(elf_archive),
                             "--cc", "no-such-cc-17"], capture_output=True, text=True)
    assert result.returncode == 4
    assert result.stderr == (f"relink: error: compiler 'no-such-cc-17' not found on PATH: install it (run "
                             f"'bash {REPO}/toolchain/setup.sh' (as root) for the pinned LLVM) or pass its full path\n")
