"""The target of every compile and link: the distribution's CPU and C library, and the glibc floor.

Checked from the outside on real inputs: PBS's own metadata (samples), the real i686 PBS archive, relink's
source-built distribution, and outputs run in a Debian 11 root (glibc 2.31) made from Debian's packages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import lief
import pytest

from debian_root import run_in_root
from relink.distribution import open_distribution
from relink.errors import ExitCode, RelinkError
from relink.toolchain import link_target, target_compiler

SHARED = Path(__file__).resolve().parents[3] / "shared"
REAL_I686 = SHARED / "real" / "cpython-3.10.3+real-i686-unknown-linux-gnu-lto-full.tar.zst"
LINUX_SAMPLE = SHARED / "samples" / "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
WINDOWS_SAMPLE = SHARED / "samples" / "PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json"
HELLO_APP = Path(__file__).resolve().parents[2] / "examples" / "hello-app" / "hello_app.py"
needs_real = pytest.mark.skipif(not REAL_I686.is_file(), reason=f"the real i686 archive is absent: {REAL_I686}")


def _relink(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "relink", *argv], capture_output=True, text=True)


def _elf(path: Path) -> lief.ELF.Binary:
    binary = lief.ELF.parse(str(path))
    assert binary is not None, path
    return binary


# --- which target, which floor ---------------------------------------------------------------------

def test_floor_defaults_to_the_distributions_own_and_can_be_raised():
    meta = open_distribution(LINUX_SAMPLE).metadata
    own = meta.crt_features.glibc_max_version
    assert link_target(meta).glibc == own
    assert link_target(meta, "2.40").glibc == (2, 40)
    assert link_target(meta).zig_target == f"x86_64-linux-gnu.{own[0]}.{own[1]}"


def test_a_floor_below_the_distributions_is_refused_with_what_to_do():
    meta = open_distribution(LINUX_SAMPLE).metadata
    own = ".".join(map(str, meta.crt_features.glibc_max_version))
    with pytest.raises(RelinkError) as error:
        link_target(meta, "2.5")
    assert error.value.code == ExitCode.USAGE
    assert f"need glibc {own}" in str(error.value) and f"--glibc {own} or newer" in str(error.value)
    with pytest.raises(RelinkError):
        link_target(meta, "two.seventeen")


def test_windows_is_not_compiled_here():
    target = link_target(open_distribution(WINDOWS_SAMPLE).metadata)
    assert not target.compilable_here and target.glibc is None
    with pytest.raises(RelinkError):
        link_target(open_distribution(WINDOWS_SAMPLE).metadata, "2.17")


def test_windows_link_inputs_get_config_c_as_source_and_say_so(tmp_path, capsys):
    from relink.plan import make_plan
    from relink.render import render_project

    dist = open_distribution(WINDOWS_SAMPLE)
    out = render_project(make_plan(dist, "minimal"), dist, tmp_path / "win", ["rsp"])
    assert (out / "config.c").is_file() and not (out / "config.o").exists()
    err = capsys.readouterr().err
    assert "cannot be compiled on this machine" in err and "config.c is written as source" in err


# --- the real i686 archive: another CPU from this x86_64 host, no multilib packages -----------------

@needs_real
def test_i686_link_args_compile_config_c_for_i686():
    result = _relink("link-args", str(REAL_I686), "--extensions", "minimal,+_json", "--json")
    assert result.returncode == 0, result.stderr
    config_o = next(Path(arg) for arg in json.loads(result.stdout)["arguments"] if arg.endswith("config.o"))
    header = config_o.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and header[4] == 1                   # ELFCLASS32
    assert int.from_bytes(header[18:20], "little") == 3                  # EM_386


def _python310() -> str | None:
    """A CPython 3.10 that runs here: compiles the i686 app's bytecode (its own interpreter cannot run)."""
    found = shutil.which("python3.10")
    pyenv = sorted(Path.home().glob(".pyenv/versions/3.10.*/bin/python3.10"))
    for candidate in ([str(p) for p in pyenv] + ([found] if found else [])):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


@pytest.mark.slow
@needs_real
def test_i686_app_links_here_and_runs_on_debian11_i386(tmp_path, debian11_i386_root):
    python310 = _python310()
    if python310 is None:
        pytest.skip("no CPython 3.10 on this machine to compile the i686 archive's bytecode")
    out = tmp_path / "hello32"
    result = _relink("build", str(REAL_I686), "--app", str(HELLO_APP), "-o", str(out), "--python", python310, "-q")
    assert result.returncode == 0, result.stderr
    binary = _elf(out)
    assert binary.header.machine_type == lief.ELF.ARCH.I386
    assert binary.interpreter == "/lib/ld-linux.so.2"
    verify = _relink("verify", str(out), "--max-glibc", "2.17")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    ran = run_in_root(debian11_i386_root, out)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("hello from a local package") and '"pi": 3.14159' in ran.stdout


# --- the floor on this x86_64 host ------------------------------------------------------------------

PROBE_C = r"""
#include <stdio.h>
#include <math.h>
#include <pthread.h>
#include <gnu/libc-version.h>
static void *work(void *arg) { return arg; }
int main(void) {
    pthread_t t; void *r;
    pthread_create(&t, NULL, work, (void *)42); pthread_join(t, &r);
    printf("%ld %.3f %s\n", (long)r, hypot(3.0, 4.0), gnu_get_libc_version());
    return 0;
}
"""


@pytest.mark.slow
def test_a_program_linked_at_the_217_floor_runs_on_debian11(tmp_path, debian11_root):
    """hypot, pthread_create: the host's glibc 2.36 binds them to GLIBC_2.35/2.34; the 2.17 stubs do not."""
    meta = open_distribution(LINUX_SAMPLE).metadata
    cc = target_compiler(link_target(meta, "2.17"))
    (tmp_path / "probe.c").write_text(PROBE_C)
    subprocess.run([str(cc), "-O2", str(tmp_path / "probe.c"), "-o", str(tmp_path / "probe")], check=True)
    verify = _relink("verify", str(tmp_path / "probe"), "--max-glibc", "2.17", "--json")
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"], verify.stdout
    # The host's own toolchain binds newer versions, which Debian 11 lacks: the floor is what made it run.
    subprocess.run(["clang-22", "-O2", str(tmp_path / "probe.c"), "-o", str(tmp_path / "host-probe"), "-lm"], check=True)
    assert _relink("verify", str(tmp_path / "host-probe"), "--max-glibc", "2.31").returncode == ExitCode.VERIFY_FAILED
    ran = run_in_root(debian11_root, tmp_path / "probe")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "42 5.000 2.31\n"


@pytest.mark.slow
def test_musl_links_static_and_runs_anywhere(tmp_path, debian11_root):
    class Musl:  # the metadata a musl distribution's PYTHON.json gives link_target
        target_triple = "x86_64-unknown-linux-musl"

        class crt_features:
            libc = "musl"
            glibc_max_version = None

    cc = target_compiler(link_target(Musl))
    (tmp_path / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("static"); return 0; }\n')
    subprocess.run([str(cc), "-O2", str(tmp_path / "hello.c"), "-o", str(tmp_path / "hello")], check=True)
    binary = _elf(tmp_path / "hello")
    assert binary.interpreter == "" and not list(binary.libraries)
    assert run_in_root(debian11_root, tmp_path / "hello").stdout == "static\n"


@pytest.mark.slow
def test_build_refuses_a_floor_below_the_distributions(tmp_path, elf_archive):
    major, minor = open_distribution(elf_archive).metadata.crt_features.glibc_max_version
    older = f"{major}.{minor - 1}"
    (tmp_path / "app.py").write_text("print('hi')\n")
    result = _relink("build", str(elf_archive), "--app", str(tmp_path / "app.py"), "-o", str(tmp_path / "app"),
                     "--glibc", older, "-q")
    assert result.returncode == ExitCode.USAGE
    assert len(result.stderr.strip().splitlines()) == 1 and f"--glibc {older} is older" in result.stderr
    assert not (tmp_path / "app").exists()


@pytest.mark.slow
def test_build_verifies_the_floor_it_linked_for(tmp_path, elf_archive):
    meta = open_distribution(elf_archive).metadata
    floor = ".".join(map(str, meta.crt_features.glibc_max_version))
    (tmp_path / "app.py").write_text("import json; print(json.dumps([1]))\n")
    out = tmp_path / "app"
    result = _relink("build", str(elf_archive), "--app", str(tmp_path / "app.py"), "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    verify_report = json.loads((Path(json.loads(result.stdout)["interpreter"]).parent / "verify.json").read_text())
    assert verify_report["ok"] and verify_report["expectations"]["max_glibc"] == floor
    assert _relink("verify", str(out), "--max-glibc", floor).returncode == 0
