"""`[tool.relink]` in the app's pyproject.toml: `relink build` in that folder needs no flags, command-line
options override it, bad keys are one line; and a real build from it, run on a terminal with -v, shows
each external command and a live status line."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from relink.cli import build_parser
from relink.commands.tool_config import apply_tool_config
from relink.errors import RelinkError

APP = "import json, sys\nprint(json.dumps({'args': sys.argv[1:]}))\n"


def _project(folder: Path, table: str) -> Path:
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "tool.py").write_text(APP)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "tool"\nversion = "1"\n\n[tool.relink]\n{table}')
    return folder


def _resolve(folder: Path, *argv: str):
    args = build_parser(["build", *argv]).parse_args(["build", *argv])
    return args, apply_tool_config(args, args.options_parser, folder)


def test_keys_fill_what_the_command_line_leaves_out(tmp_path: Path) -> None:
    folder = _project(tmp_path / "p", 'app = "src/tool.py"\nextensions = ["minimal", "+_json"]\n'
                                      'include = ["vendor", "more"]\nexclude = ["unittest"]\noutput = "dist/tool"\n'
                                      'no-copyleft = true\noptimize = 2\ndist = "3.12"\nglibc = "2.28"\n')
    args, config = _resolve(folder)
    assert config == folder / "pyproject.toml"
    assert args.app == folder / "src/tool.py" and args.output == folder / "dist/tool"
    assert args.extensions == "minimal,+_json" and args.no_copyleft is True and args.optimize == 2
    assert args.include == [folder / "vendor", folder / "more"] and args.exclude == ["unittest"]
    assert args.dist == "3.12" and args.glibc == "2.28"
    args, _ = _resolve(folder, "--extensions", "auto", "--include", "other", "-o", "x", "cpython-3.13")
    assert args.extensions == "auto" and args.include == [Path("other")] and args.output == Path("x")
    assert args.dist == "cpython-3.13" and args.exclude == ["unittest"]


def test_no_table_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    args, config = _resolve(tmp_path)
    assert config is None and args.app is None and args.extensions == "auto"


@pytest.mark.parametrize(("table", "message"), [
    ('appp = "x.py"', "[tool.relink] appp: not a `relink build` option (known: app,"),
    ('optimize = "2"', "[tool.relink] optimize: expected a number, got '2'"),
    ("optimize = 5", "[tool.relink] optimize: 5 is not one of 0, 1, 2"),
    ('no-copyleft = "yes"', "[tool.relink] no-copyleft: expected true or false, got 'yes'"),
    ("app = 3", "[tool.relink] app: expected a string, got 3"),
    ("app = [", "not valid TOML"),
])
def test_bad_table_is_one_line_naming_the_file(tmp_path: Path, table: str, message: str) -> None:
    folder = _project(tmp_path / "p", table + "\n")
    with pytest.raises(RelinkError) as error:
        _resolve(folder)
    assert str(error.value).startswith(f"{folder / 'pyproject.toml'}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def _run_on_a_terminal(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run `argv` with stdin, stdout and stderr on a pseudo-terminal; (exit status, everything it printed)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return process.wait(), b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_build_from_the_table_alone_verbose_on_a_terminal(tmp_path: Path, elf_archive: Path) -> None:
    folder = _project(tmp_path / "p", f'dist = "{elf_archive}"\napp = "src/tool.py"\noutput = "out/bin/tool"\n')
    env = {**os.environ, "RELINK_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "120"}  # cold: links
    code, printed = _run_on_a_terminal([sys.executable, "-m", "relink", "build", "-v"], folder, env)
    assert code == 0, printed[-3000:]
    assert f"options from [tool.relink] in {folder / 'pyproject.toml'}" in printed
    # -v: each external command, as a shell could run it.
    lines = printed.replace("\x1b[K", "").replace("\r", "\n").splitlines()  # the live line's redraws apart
    commands = [line for line in lines if line.startswith("relink: $ ")]
    assert any(" -I -S " in line and "worker.py" in line for line in commands), commands
    assert any("/cmake -S " in line for line in commands) and any("/ninja -C " in line for line in commands)
    assert any("--strip-all" in line for line in commands)
    # A live line on the terminal: redrawn in place (\r) with the elapsed time and ninja's [x/y].
    redraws = [part for part in printed.split("\r") if "cmake build" in part and " s  [" in part]
    assert redraws, printed[-3000:]
    tool = folder / "out" / "bin" / "tool"
    run = subprocess.run([str(tool), "a", "b"], capture_output=True, text=True)
    assert run.returncode == 0 and '{"args": ["a", "b"]}' in run.stdout
