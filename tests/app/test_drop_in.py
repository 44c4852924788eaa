"""The single-file interpreter as a drop-in `python`, and apps with stock semantics, checked from the outside
beside the distribution's own python3 (same CPython source, same environment, same expectations).

Text under LANG unset/C/C.UTF-8/en_US.UTF-8 with non-ASCII argv to a pipe and to a pseudo-terminal, the
command line and environment options, site and .pth files, venv with pip, sysconfig, signals, broken
pipes, sys.executable for subprocess and multiprocessing in app mode, tracebacks.
"""

from __future__ import annotations

import os
import pty
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from relink.distribution import open_distribution

pytestmark = pytest.mark.slow

TEXT_PROBE = ("import sys, locale; print(sys.flags.utf8_mode, sys.stdout.encoding, sys.stdout.errors, "
              "sys.getfilesystemencoding(), locale.getpreferredencoding(False), ascii(sys.argv[1:])); print('é€')")
LOCALES = {"unset": None, "C": "C", "C.UTF-8": "C.UTF-8", "en_US.UTF-8": "en_US.UTF-8"}

MP_APP = '''\
import multiprocessing as mp, subprocess, sys
from concurrent.futures import ProcessPoolExecutor

def square(x):
    return x * x

if __name__ == "__main__":
    child = subprocess.run([sys.executable, "-c", "import sys; print(sys.argv, sys.flags.isolated)"],
                           capture_output=True, text=True)
    print("interpreter child:", child.stdout.strip(), child.returncode)
    for method in ("spawn", "forkserver", "fork"):
        with mp.get_context(method).Pool(2) as pool:
            print(method, pool.map(square, range(4)))
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as executor:
        print("executor", list(executor.map(square, range(3))))
    print("app args", sys.argv[1:])
'''
SIGNAL_APP = '''\
import sys, time
if sys.argv[1:] == ["pipe"]:
    for i in range(100000):
        print("line", i)
else:
    try:
        print("ready", flush=True)
        time.sleep(60)
    finally:
        print("finally ran", flush=True)
'''
TEXT_APP = TEXT_PROBE.replace("; print(", "\nprint(")


def _relink_build(*argv: str) -> None:
    result = subprocess.run([sys.executable, "-m", "relink", "build", "-q", *argv], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def stock(elf_archive) -> Path:
    """The distribution's own interpreter, the reference."""
    root = open_distribution(elf_archive).extract()
    return root / "python" / "install" / "bin" / "python3"


@pytest.fixture(scope="module")
def prefix(tmp_path_factory, elf_archive) -> Path:
    """A plain relinked interpreter installed as PREFIX/bin/python3."""
    root = tmp_path_factory.mktemp("prefix")
    (root / "bin").mkdir()
    _relink_build(str(elf_archive), "--extensions", "default", "-o", str(root / "bin" / "python3"))
    return root


@pytest.fixture(scope="module")
def python(prefix) -> Path:
    return prefix / "bin" / "python3"


@pytest.fixture(scope="module")
def apps(tmp_path_factory, elf_archive) -> dict[str, Path]:
    src = tmp_path_factory.mktemp("apps-src")
    out = tmp_path_factory.mktemp("apps")
    (src / "mp_app.py").write_text(MP_APP)
    (src / "signal_app.py").write_text(SIGNAL_APP)
    (src / "text_app.py").write_text(TEXT_APP)
    (src / "helper.py").write_text("def fail():\n    raise ValueError('boom')\n")
    (src / "boom.py").write_text("import helper\nhelper.fail()\n")
    for name in ("mp_app", "signal_app", "text_app", "boom"):
        _relink_build(str(elf_archive), "--app", str(src / f"{name}.py"), "-o", str(out / name))
    _relink_build(str(elf_archive), "--app", str(src / "boom.py"), "--embed-source", "-o", str(out / "boom_src"))
    return {path.name: path for path in out.iterdir()} | {"src": src}


def _env(lang: str | None, **extra: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", **extra}
    if lang is not None:
        env["LANG"] = lang
    return env


def _on_a_terminal(argv: list[str], env: dict[str, str]) -> str:
    """Run with stdout and stderr on a pseudo-terminal; what the terminal received."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(argv, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_text_is_handled_as_stock(lang, python, stock, apps):
    env = _env(LOCALES[lang])
    for terminal in (False, True):
        results = []
        for argv in ([str(stock), "-c", TEXT_PROBE, "héllo"], [str(python), "-c", TEXT_PROBE, "héllo"],
                     [str(apps["text_app"]), "héllo"]):
            if terminal:
                results.append(_on_a_terminal(argv, env))
            else:
                run = subprocess.run(argv, capture_output=True, env=env, timeout=60)
                results.append(run.stdout.decode("utf-8", "replace") + run.stderr.decode("utf-8", "replace"))
        reference, interpreter, app = results
        assert "'h\\xe9llo'" in reference and "é€" in reference, reference
        # stock runs `python -c`, the app runs as `python -I`: the same text handling either way.
        assert interpreter == reference
        assert app == reference


def test_command_line_and_environment_options(python, stock, tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "beside.py").write_text("VALUE = 'beside'\n")
    (tmp_path / "scripts" / "main.py").write_text("import beside, sys; print(beside.VALUE, sys.flags.safe_path)\n")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "fromenv.py").write_text("VALUE = 'pythonpath'\n")
    code = "import sys, fromenv; print(fromenv.VALUE, sys.flags.ignore_environment, sys.flags.isolated)"
    env = _env("C.UTF-8", PYTHONPATH=str(tmp_path / "extra"))
    for interpreter in (stock, python):
        def run(*argv):
            result = subprocess.run([str(interpreter), *argv], capture_output=True, text=True, env=env,
                                    cwd=tmp_path, timeout=60)
            return result.returncode, result.stdout.strip(), (result.stderr.strip().splitlines() or [""])[-1]
        assert run(str(tmp_path / "scripts" / "main.py")) == (0, "beside False", "")
        assert run("-P", str(tmp_path / "scripts" / "main.py"))[2] == "ModuleNotFoundError: No module named 'beside'"
        assert run("-c", code) == (0, "pythonpath 0 0", "")
        assert run("-E", "-c", code)[2] == "ModuleNotFoundError: No module named 'fromenv'"
        assert run("-I", "-c", code)[2] == "ModuleNotFoundError: No module named 'fromenv'"
        assert run("-X", "utf8", "-c", "import sys; print(sys.flags.utf8_mode)") == (0, "1", "")
        assert run("-S", "-c", "import sys; print('site' in sys.modules)") == (0, "False", "")
        assert run("-m", "json.tool", "--help")[0] == 0
        assert run("-c", "import signal; print(signal.getsignal(signal.SIGINT).__name__, "
                         "signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN)") == (0, "default_int_handler True", "")


def test_executable_site_packages_and_pth_files(prefix, python, tmp_path):
    site_packages = prefix / "lib" / "python3.11" / "site-packages"
    site_packages.mkdir(parents=True, exist_ok=True)
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "viapth.py").write_text("VALUE = 'pth'\n")
    (site_packages / "extra.pth").write_text(f"{tmp_path / 'linked'}\n")
    code = ("import sys, sysconfig, viapth, zoneinfo; print(sys.executable, sys.prefix, viapth.VALUE, "
            "sysconfig.get_paths()['purelib'] in sys.path)")
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=_env("C.UTF-8"))
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(python), str(prefix), "pth", "True"]
    run = subprocess.run([str(python), "-s", "-S", "-c", "import viapth"], capture_output=True, text=True,
                         env=_env("C.UTF-8"))
    assert run.returncode == 1 and "No module named 'viapth'" in run.stderr
    # Found through PATH like any python: sys.executable is the file, usable by subprocess.
    code = "import subprocess, sys; print(subprocess.check_output([sys.executable, '-c', 'print(6 * 7)'], text=True))"
    run = subprocess.run(["python3", "-c", code], capture_output=True, text=True,
                         env=_env("C.UTF-8") | {"PATH": f"{prefix / 'bin'}:/usr/bin:/bin"})
    assert run.stdout.strip() == "42", run.stderr


def test_extension_modules_installed_beside_it_load(elf_archive, python, stock, tmp_path):
    """Like stock python, the plain interpreter exports the C API: compiled packages from pip load."""
    from relink.toolchain import pinned_toolchain

    dist = open_distribution(elf_archive)
    (tmp_path / "ext.c").write_text(
        "#include <Python.h>\n"
        "static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, \"relinkext\", NULL, -1, NULL};\n"
        "PyMODINIT_FUNC PyInit_relinkext(void) {\n"
        "    PyObject *m = PyModule_Create(&def);\n"
        "    if (m) PyModule_AddObject(m, \"answer\", PyUnicode_FromFormat(\"%d\", 42));\n"
        "    return m;\n}\n")
    subprocess.run([pinned_toolchain().clang, "-shared", "-fPIC", "-I", str(dist.path(dist.metadata.python_paths["include"])),
                    str(tmp_path / "ext.c"), "-o", str(tmp_path / "relinkext.cpython-311-x86_64-linux-gnu.so")], check=True)
    code = "import ctypes, relinkext; print(relinkext.answer, hasattr(ctypes.pythonapi, 'PyUnicode_FromFormat'))"
    for interpreter in (stock, python):
        run = subprocess.run([str(interpreter), "-c", code], capture_output=True, text=True,
                             env=_env("C.UTF-8", PYTHONPATH=str(tmp_path)))
        assert (run.returncode, run.stdout) == (0, "42 True\n"), run.stderr


def test_venv_with_pip(python, tmp_path):
    created = subprocess.run([str(python), "-m", "venv", str(tmp_path / "env")], capture_output=True, text=True,
                             env=_env("C.UTF-8"), timeout=300)
    assert created.returncode == 0, created.stderr
    env_python = tmp_path / "env" / "bin" / "python"
    run = subprocess.run([str(env_python), "-c", "import sys; print(sys.prefix, sys.base_prefix != sys.prefix, "
                          "sys.path[-1])"], capture_output=True, text=True, env=_env("C.UTF-8"))
    assert run.stdout.split() == [str(tmp_path / "env"), "True",
                                  str(tmp_path / "env" / "lib" / "python3.11" / "site-packages")], run.stderr
    pip = subprocess.run([str(tmp_path / "env" / "bin" / "pip"), "--version"], capture_output=True, text=True,
                         env=_env("C.UTF-8"))
    assert pip.returncode == 0 and str(tmp_path / "env") in pip.stdout, pip.stderr
    # The activate scripts come from the embedded stdlib, with the environment's paths filled in.
    assert {"activate", "activate.csh", "activate.fish", "Activate.ps1"} <= {p.name for p in env_python.parent.iterdir()}
    activated = subprocess.run(["bash", "-c", f"set -euo pipefail; . {tmp_path / 'env' / 'bin' / 'activate'}; "
                                "command -v python; deactivate; echo ${VIRTUAL_ENV:-deactivated}"],
                               capture_output=True, text=True, env=_env("C.UTF-8"))
    assert activated.stdout.splitlines() == [str(env_python), "deactivated"], activated.stderr


def _interrupt(argv: list[str]) -> tuple[str, str, int]:
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env("C.UTF-8"))
    assert process.stdout.readline() == "ready\n"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return out, (err.strip().splitlines() or [""])[-1], process.returncode


def test_signals_and_broken_pipes_like_stock(python, stock, apps):
    script = apps["src"] / "signal_app.py"
    for argv in ([str(stock), str(script)], [str(python), str(script)], [str(apps["signal_app"])]):
        # Ctrl-C: KeyboardInterrupt, `finally` runs, and the process dies of SIGINT as stock does.
        assert _interrupt(argv) == ("finally ran\n", "KeyboardInterrupt", -signal.SIGINT)
        # A closed pipe: BrokenPipeError (SIGPIPE is ignored), not death by SIGPIPE.
        pipe = subprocess.run(["bash", "-c", f"{' '.join(argv)} pipe | head -n1; echo ${{PIPESTATUS[0]}}"],
                              capture_output=True, text=True, env=_env("C.UTF-8"), timeout=120)
        assert pipe.stdout.split("\n")[:2] == ["line 0", "1"], pipe.stdout + pipe.stderr
        assert "BrokenPipeError" in pipe.stderr


def test_app_children_started_as_sys_executable_run_the_interpreter(apps, tmp_path):
    app = tmp_path / "mp_app"
    shutil.copy2(apps["mp_app"], app)
    run = subprocess.run([str(app), "-c", "x"], capture_output=True, text=True, env=_env("C.UTF-8"),
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "interpreter child: ['-c'] 0 0",
        "spawn [0, 1, 4, 9]", "forkserver [0, 1, 4, 9]", "fork [0, 1, 4, 9]", "executor [0, 1, 4]",
        "app args ['-c', 'x']",
    ]
    # The marker binds to this very file started by its full path (as sys.executable is): started
    # another way, even by a child of the app, the file is the app.
    text_app = os.path.realpath(apps["text_app"])
    env = _env("C.UTF-8", RELINK_INTERPRETER=text_app)
    as_app = subprocess.run(["./text_app", "-c", "print(1)"], capture_output=True, text=True, env=env,
                            cwd=Path(text_app).parent)
    assert "['-c', 'print(1)']" in as_app.stdout, as_app.stderr
    as_interpreter = subprocess.run([text_app, "-c", "print(1)"], capture_output=True, text=True, env=env)
    assert as_interpreter.stdout == "1\n", as_interpreter.stderr


@pytest.mark.parametrize("folder", ["elsewhere", "beside same-named files"])
def test_app_tracebacks_name_the_apps_files(apps, folder, tmp_path):
    if folder != "elsewhere":  # files named like the app's: never shown as its source, as stock never does
        for name in ("boom.py", "helper.py"):
            (tmp_path / name).write_text("not the app's line 1\nnot the app's line 2\n")
    plain = subprocess.run([str(apps["boom"])], capture_output=True, text=True, env=_env("C.UTF-8"), cwd=tmp_path)
    with_source = subprocess.run([str(apps["boom_src"])], capture_output=True, text=True, env=_env("C.UTF-8"),
                                 cwd=tmp_path)
    expected = ['Traceback (most recent call last):', '  File "boom.py", line 2, in <module>',
                '  File "helper.py", line 2, in fail', 'ValueError: boom']
    assert (plain.returncode, plain.stderr.splitlines()) == (1, expected)
    assert with_source.returncode == 1
    assert with_source.stderr.splitlines() == [
        expected[0], expected[1], "    helper.fail()", expected[2], "    raise ValueError('boom')", expected[3]]
    assert str(apps["src"]) not in plain.stderr + with_source.stderr
