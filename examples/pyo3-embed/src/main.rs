//! An isolated CPython interpreter inside a Rust program, through PyO3, with a builtin module made
//! with PyO3.
//!
//! Everything Python needs travels with the executable: libpython and its extension modules are linked
//! in, and the stdlib is `python3XY.zip` beside the executable (written by `relink stdlib`), found from
//! the executable's own location. Nothing of the build machine is read at run time. The exit code is 1
//! if the Python code raised or initialization failed, 120 if finalization failed, else 0.

use std::ffi::{c_char, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::exit;
use std::ptr::{addr_of_mut, null_mut};

use pyo3::exceptions::PyOverflowError;
use pyo3::ffi;
use pyo3::prelude::*;

/// rustmod.add(a, b): the sum of two integers, OverflowError if it does not fit 64 bits.
#[pyfunction]
fn add(a: i64, b: i64) -> PyResult<i64> {
    a.checked_add(b).ok_or_else(|| PyOverflowError::new_err("rustmod.add: the sum does not fit 64 bits"))
}

/// A builtin module implemented in Rust.
#[pymodule]
fn rustmod(_py: Python<'_>, module: &PyModule) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(add, module)?)?;
    Ok(())
}

const SCRIPT: &str = r#"
import json, math, sys
import rustmod

total = rustmod.add(2, 40)
print(f'rustmod.add(2, 40) = {total}')
print(json.dumps({'answer': total, 'hypot': math.hypot(3, 4), 'pi': round(math.pi, 5)}, sort_keys=True))
try:
    rustmod.add(2**62, 2**62)
except OverflowError as error:
    print(f'OverflowError: {error}')
print('builtin:', ' '.join(name for name in ('_json', 'math', 'rustmod') if name in sys.builtin_module_names))
print('stdlib:', json.__file__)
"#;

fn fail(message: &str) -> ! {
    eprintln!("pyo3-embed: {message}");
    exit(1)
}

/// `python3XY.zip` in the executable's folder, XY from the linked libpython's version.
fn stdlib_zip() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|err| fail(&format!("cannot locate the executable: {err}")));
    // Py_GetVersion may be called before initialization: "3.11.2 (main, ...)".
    let version = unsafe { std::ffi::CStr::from_ptr(ffi::Py_GetVersion()) }.to_string_lossy().into_owned();
    let mut parts = version.split(|c: char| c == '.' || c == ' ');
    let (major, minor) = (parts.next().unwrap_or("3"), parts.next().unwrap_or(""));
    exe.with_file_name(format!("python{major}{minor}.zip"))
}

fn c_string(bytes: &[u8]) -> CString {
    CString::new(bytes).unwrap_or_else(|_| fail("a path or argument contains a NUL byte"))
}

/// Stops with Python's own message (and exit code) if `status` is an error or an exit request.
unsafe fn check(config: *mut ffi::PyConfig, status: ffi::PyStatus) {
    if ffi::PyStatus_Exception(status) != 0 {
        ffi::PyConfig_Clear(config);
        ffi::Py_ExitStatusException(status);
    }
}

/// An isolated interpreter (no environment variables, no user site-packages, no current directory on
/// sys.path) whose only module search path is the stdlib zip, and whose home is the zip's folder, so
/// the path calculation looks nowhere else.
unsafe fn initialize(zip: &Path, args: &[CString]) {
    if !zip.is_file() {
        fail(&format!("{} not found: write it with 'relink stdlib DIST -o {}'", zip.display(), zip.display()));
    }
    let mut storage = std::mem::MaybeUninit::<ffi::PyConfig>::uninit();
    ffi::PyConfig_InitIsolatedConfig(storage.as_mut_ptr());
    let config = storage.as_mut_ptr();
    let home = c_string(zip.parent().unwrap_or(Path::new("/")).as_os_str().as_bytes());
    check(config, ffi::PyConfig_SetBytesString(config, addr_of_mut!((*config).home), home.as_ptr()));
    let zip_c = c_string(zip.as_os_str().as_bytes());
    let zip_w = ffi::Py_DecodeLocale(zip_c.as_ptr(), null_mut());
    if zip_w.is_null() {
        fail(&format!("cannot decode {}", zip.display()));
    }
    (*config).module_search_paths_set = 1;
    let appended = ffi::PyWideStringList_Append(addr_of_mut!((*config).module_search_paths), zip_w);
    ffi::PyMem_RawFree(zip_w.cast());
    check(config, appended);
    let mut argv: Vec<*const c_char> = args.iter().map(|arg| arg.as_ptr()).collect();
    check(config, ffi::PyConfig_SetBytesArgv(config, argv.len() as ffi::Py_ssize_t, argv.as_mut_ptr()));
    check(config, ffi::Py_InitializeFromConfig(config));
    ffi::PyConfig_Clear(config);
}

fn main() {
    let args: Vec<CString> = std::env::args_os().map(|arg| c_string(arg.as_bytes())).collect();
    let zip = stdlib_zip();
    let raised = unsafe {
        // Registered before initialization, so `import rustmod` finds it among the builtin modules.
        if ffi::PyImport_AppendInittab(rustmod::NAME.as_ptr().cast(), Some(rustmod::init)) != 0 {
            fail("PyImport_AppendInittab failed");
        }
        initialize(&zip, &args);
        Python::with_gil(|py| match py.run(SCRIPT, None, None) {
            Ok(()) => false,
            Err(error) => {
                error.print(py);
                true
            }
        })
    };
    let finalized = unsafe { ffi::Py_FinalizeEx() } == 0;
    exit(if raised { 1 } else if finalized { 0 } else { 120 });
}
