//! An isolated CPython interpreter inside a Rust program, with a builtin module written in Rust.
//!
//! `rustmod.add(a, b)` is registered through the inittab before initialization, so Python imports it
//! like any builtin module. The interpreter's stdlib is `python3XY.zip` beside the executable (written
//! there by build.rs with `relink stdlib`; RUST_EMBED_STDLIB names another zip at run time), so the
//! program runs wherever it is copied with its zip. The exit code is 1 if the Python code raised, 120 if
//! finalization failed (as `python` does), else 0.
//!
//! Only stable-ABI items are declared here (their layout is the same in every CPython 3.x);
//! PyConfig, whose layout is not, is handled by src/pyconfig_shim.c.

use std::ffi::{c_char, c_int, c_long, c_void, CString};
use std::os::unix::ffi::OsStringExt;
use std::process::exit;
use std::ptr;

/// A Python object, only ever handled by pointer.
#[repr(C)]
pub struct PyObject {
    _opaque: [u8; 0],
}

/// PyObject_HEAD of a non-free-threaded build: the reference count and the type.
#[repr(C)]
struct PyObjectHead {
    ob_refcnt: isize,
    ob_type: *mut c_void,
}

#[repr(C)]
struct PyModuleDefBase {
    ob_base: PyObjectHead,
    m_init: Option<unsafe extern "C" fn() -> *mut PyObject>,
    m_index: isize,
    m_copy: *mut PyObject,
}

type PyCFunction = unsafe extern "C" fn(*mut PyObject, *mut PyObject) -> *mut PyObject;

#[repr(C)]
struct PyMethodDef {
    ml_name: *const c_char,
    ml_meth: Option<PyCFunction>,
    ml_flags: c_int,
    ml_doc: *const c_char,
}

#[repr(C)]
struct PyModuleDef {
    m_base: PyModuleDefBase,
    m_name: *const c_char,
    m_doc: *const c_char,
    m_size: isize,
    m_methods: *mut PyMethodDef,
    m_slots: *mut c_void,
    m_traverse: *mut c_void,
    m_clear: *mut c_void,
    m_free: *mut c_void,
}

const METH_VARARGS: c_int = 0x0001;
const PYTHON_API_VERSION: c_int = 1013;

extern "C" {
    fn PyImport_AppendInittab(name: *const c_char, initfunc: Option<unsafe extern "C" fn() -> *mut PyObject>) -> c_int;
    fn PyModule_Create2(def: *mut PyModuleDef, apiver: c_int) -> *mut PyObject;
    fn PyArg_ParseTuple(args: *mut PyObject, format: *const c_char, ...) -> c_int;
    fn PyLong_FromLong(value: c_long) -> *mut PyObject;
    fn PyErr_SetString(exception: *mut PyObject, message: *const c_char);
    fn PyRun_SimpleString(command: *const c_char) -> c_int;
    fn Py_FinalizeEx() -> c_int;
    static mut PyExc_OverflowError: *mut PyObject;

    // src/pyconfig_shim.c
    fn rust_embed_initialize(stdlib_zip: *const c_char, argc: c_int, argv: *const *mut c_char) -> c_int;
}

/// rustmod.add(a, b): the sum of two integers, OverflowError if it does not fit a C long.
unsafe extern "C" fn rustmod_add(_module: *mut PyObject, args: *mut PyObject) -> *mut PyObject {
    let (mut a, mut b): (c_long, c_long) = (0, 0);
    if PyArg_ParseTuple(args, c"ll:add".as_ptr(), &mut a as *mut c_long, &mut b as *mut c_long) == 0 {
        return ptr::null_mut();
    }
    match a.checked_add(b) {
        Some(sum) => PyLong_FromLong(sum),
        None => {
            PyErr_SetString(PyExc_OverflowError, c"rustmod.add: the sum does not fit a C long".as_ptr());
            ptr::null_mut()
        }
    }
}

// CPython keeps pointers to these and writes m_base.m_index, so they live (mutably) for the whole run.
static mut RUSTMOD_METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"add".as_ptr(),
        ml_meth: Some(rustmod_add),
        ml_flags: METH_VARARGS,
        ml_doc: c"add(a, b) -> a + b, computed in Rust".as_ptr(),
    },
    PyMethodDef { ml_name: ptr::null(), ml_meth: None, ml_flags: 0, ml_doc: ptr::null() },
];

static mut RUSTMOD_DEF: PyModuleDef = PyModuleDef {
    // PyModuleDef_HEAD_INIT
    m_base: PyModuleDefBase {
        ob_base: PyObjectHead { ob_refcnt: 1, ob_type: ptr::null_mut() },
        m_init: None,
        m_index: 0,
        m_copy: ptr::null_mut(),
    },
    m_name: c"rustmod".as_ptr(),
    m_doc: c"A builtin module implemented in Rust.".as_ptr(),
    m_size: -1,
    m_methods: &raw mut RUSTMOD_METHODS as *mut PyMethodDef,
    m_slots: ptr::null_mut(),
    m_traverse: ptr::null_mut(),
    m_clear: ptr::null_mut(),
    m_free: ptr::null_mut(),
};

unsafe extern "C" fn pyinit_rustmod() -> *mut PyObject {
    PyModule_Create2(&raw mut RUSTMOD_DEF, PYTHON_API_VERSION)
}

const SCRIPT: &std::ffi::CStr = c"
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
";

fn c_string(bytes: Vec<u8>) -> CString {
    CString::new(bytes).unwrap_or_else(|_| {
        eprintln!("rust-embed: an argument or path contains a NUL byte");
        exit(2)
    })
}

fn main() {
    let zip = std::env::var_os("RUST_EMBED_STDLIB").unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap_or_else(|err| {
            eprintln!("rust-embed: cannot locate the executable: {err}");
            exit(1)
        });
        exe.with_file_name(env!("RUST_EMBED_STDLIB_ZIP")).into_os_string()
    });
    let zip = c_string(zip.into_vec());
    let args: Vec<CString> = std::env::args_os().map(|arg| c_string(arg.into_vec())).collect();
    let mut argv: Vec<*mut c_char> = args.iter().map(|arg| arg.as_ptr() as *mut c_char).collect();
    argv.push(ptr::null_mut());

    unsafe {
        if PyImport_AppendInittab(c"rustmod".as_ptr(), Some(pyinit_rustmod)) != 0 {
            eprintln!("rust-embed: PyImport_AppendInittab failed");
            exit(1);
        }
        let status = rust_embed_initialize(zip.as_ptr(), args.len() as c_int, argv.as_ptr());
        if status != 0 {
            exit(status);
        }
        let raised = PyRun_SimpleString(SCRIPT.as_ptr()) != 0;
        let finalized = Py_FinalizeEx() == 0;
        exit(if raised { 1 } else if finalized { 0 } else { 120 });
    }
}
