//! Build script: asks relink how to link the chosen CPython into this program, and compiles the
//! PyConfig shim against the distribution's headers.
//!
//! Environment (each a `rerun-if-env-changed`):
//!   RELINK_DIST        the PBS full archive or extracted folder (required)
//!   RELINK_EXTENSIONS  relink's extension spec (default: minimal,+_json,+math)
//!   RELINK             the relink command (default: `relink` on PATH)
//!   RELINK_CC          C compiler for the shim and for relink's config.c (default: the linker Cargo
//!                      was configured with, i.e. clang-22 from .cargo/config.toml)
//!
//! `relink link-args --format cargo` runs the toolchain gate for this rustc and the C compiler, packs the
//! plan's objects, static libraries and compiled config.c (the inittab) once into relink's cache as one
//! libpython3.X.a, and prints the `cargo:rustc-link-*` lines that link it. They are forwarded as they are.
//!
//! The stdlib travels with the executable: `relink stdlib` writes it as `python3XY.zip` beside the
//! executable (in target/<profile>/), where main.rs looks for it. Nothing of the build machine is
//! compiled in.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

const DEFAULT_EXTENSIONS: &str = "minimal,+_json,+math";

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    exit(1);
}

fn env_or(name: &str, default: &str) -> String {
    println!("cargo:rerun-if-env-changed={name}");
    env::var(name).unwrap_or_else(|_| default.to_string())
}

/// Runs `relink ARGS...` and returns its standard output; fails the build with relink's own message.
fn relink(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|err| {
        fail(&format!("cannot run '{program}' ({err}): install relink or set RELINK to its path"))
    });
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        fail(&format!("'{program} {}' failed: {}", args.join(" "), stderr.trim()));
    }
    String::from_utf8(output.stdout).unwrap_or_else(|_| fail("relink printed non-UTF-8 output"))
}

/// The single `python3.X` entry under `dir` holding `file` (the distribution has one Python version).
fn versioned_dir(dir: &Path, file: &str) -> PathBuf {
    let entries = dir.read_dir().unwrap_or_else(|err| fail(&format!("cannot read {}: {err}", dir.display())));
    entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("python3.") && path.join(file).is_file()
        })
        .unwrap_or_else(|| fail(&format!("no python3.X folder with {file} in {}", dir.display())))
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/pyconfig_shim.c");
    println!("cargo:rerun-if-env-changed=RELINK_DIST");
    let dist = env::var("RELINK_DIST").unwrap_or_else(|_| {
        fail("set RELINK_DIST to a python-build-standalone full archive or extracted folder (e.g. the path `relink dist build --no-lto` prints)")
    });
    println!("cargo:rerun-if-changed={dist}");
    let program = env_or("RELINK", "relink");
    let extensions = env_or("RELINK_EXTENSIONS", DEFAULT_EXTENSIONS);
    let linker = env::var("RUSTC_LINKER").unwrap_or_else(|_| "clang-22".to_string());
    let cc = env_or("RELINK_CC", &linker);
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());

    // The extracted distribution's include/python3.X has the headers the shim compiles against.
    let root = relink(&program, &["extract", &dist, "--print-path"]);
    let install = Path::new(root.trim()).join("python").join("install");
    let include = versioned_dir(&install.join("include"), "Python.h");

    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let shim = out_dir.join("pyconfig_shim.o");
    let status = Command::new(&cc)
        .args(["-c", "-O2", "-I"])
        .arg(&include)
        .arg("src/pyconfig_shim.c")
        .arg("-o")
        .arg(&shim)
        .status()
        .unwrap_or_else(|err| fail(&format!("cannot run '{cc}' ({err}): install clang-22 or set RELINK_CC")));
    if !status.success() {
        fail(&format!("'{cc}' failed to compile src/pyconfig_shim.c against {}", include.display()));
    }
    println!("cargo:rustc-link-arg={}", shim.display());

    let args = ["link-args", &dist, "--extensions", &extensions, "--format", "cargo", "--rustc", &rustc, "--cc", &cc];
    for line in relink(&program, &args).lines().filter(|line| line.starts_with("cargo:")) {
        println!("{line}");
    }

    // The stdlib beside the executable: OUT_DIR is target/<profile>/build/<package>-<hash>/out.
    let version = include.file_name().and_then(|n| n.to_str()).unwrap_or("python3").replace('.', "");
    let zip_name = format!("{version}.zip");
    let profile_dir = out_dir.ancestors().nth(3).unwrap_or_else(|| fail("unexpected OUT_DIR layout"));
    let zip = profile_dir.join(&zip_name);
    let zip_arg = zip.to_string_lossy().into_owned();
    relink(&program, &["stdlib", &dist, "--extensions", &extensions, "-o", &zip_arg]);
    // Compiled into main.rs: a file name, looked up beside the running executable.
    println!("cargo:rustc-env=RUST_EMBED_STDLIB_ZIP={zip_name}");
}
