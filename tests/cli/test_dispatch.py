"""The command line imports only what the command it runs needs: `relink info` never loads the template
engine, lief, the network or the cache locks, `relink --version` loads no command at all, and `relink --help`
(every command's parser) loads none of the stages' heavy modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from relink.cli import main
from relink.commands import COMMANDS

SAMPLE = "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
HEAVY = ("jinja2", "lief", "http.client", "ssl", "urllib.request", "filelock", "cmake", "ninja", "relink.app",
         "relink.render", "relink.report", "relink.toolchain", "dataclasses", "concurrent.futures", "email")


_REPORT_MODULES = """
import sys
from relink.cli import main
code = main(sys.argv[1:])
print("\\n".join(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def _imported(*argv: str) -> set[str]:
    """The modules loaded by the time `relink ARGV` has run, in a fresh interpreter."""
    result = subprocess.run([sys.executable, "-c", _REPORT_MODULES, *argv], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return set(result.stderr.splitlines())


def test_info_imports_only_what_it_needs(samples_dir: Path) -> None:
    modules = _imported("info", str(samples_dir / SAMPLE))
    assert "relink.commands.info" in modules and "relink.distribution.metadata" in modules
    assert not [m for m in modules if m.startswith(HEAVY)]
    assert not [m for m in modules if m.startswith("relink.commands.") and m != "relink.commands.info"]


# What the stages import that no parser needs; a command module imports these only inside the function that
# runs the command (the price of importing them all is most of `relink --help`'s time).
NOT_FOR_PARSERS = ("jinja2", "http.client", "ssl", "filelock", "concurrent.futures", "email", "urllib.request",
                   "lief", "zstandard", "tarfile", "dataclasses", "relink.distribution.opener",
                   "relink.plan.selection", "relink.render.files", "relink.toolchain.gate", "relink.app",
                   "relink.report", "relink.support")

_REPORT_PARSER_MODULES = """
import sys
from relink.cli import build_parser
build_parser().format_help()
for parser in build_parser()._subparsers._group_actions[0].choices.values():
    parser.format_help()
print("\\n".join(sorted(sys.modules)))
"""


def test_every_parser_builds_without_the_stages_heavy_modules() -> None:
    result = subprocess.run([sys.executable, "-c", _REPORT_PARSER_MODULES], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    modules = set(result.stdout.splitlines())
    assert {f"relink.commands.{module}" for module in COMMANDS.values()} <= modules
    assert sorted(m for m in modules if m.startswith(NOT_FOR_PARSERS)) == []


def test_version_loads_no_command() -> None:
    assert not [m for m in _imported("--version") if m.startswith("relink.commands.")]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert all(f"    {name}" in out for name in COMMANDS)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_parses_alone(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0 and f"usage: relink {command}" in capsys.readouterr().out
