/* The one part of rust-embed written in C: building a PyConfig and initializing the interpreter.
 *
 * PyConfig is a large struct outside the stable ABI: its size and field offsets change between Python
 * versions (3.11 added safe_path, 3.12 int_max_str_digits moved, 3.13/3.14 grew more fields). Declaring
 * it in Rust would hard-code one version's layout, and a wrong guess corrupts memory silently. This file
 * is compiled by build.rs with the distribution's own <Python.h>, so the compiler lays PyConfig out
 * exactly as that libpython expects, whatever the version. Everything else main.rs needs
 * (PyModuleDef, PyMethodDef, PyImport_AppendInittab, PyRun_SimpleString, ...) is in the stable ABI and
 * is declared in Rust directly.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>

/* Initialize an isolated interpreter (no environment variables, no user site-packages, no guessing
 * of paths from the executable's location): `home` is the prefix holding lib/python3.X/os.py, and
 * argv becomes sys.argv unparsed. Returns 0 on success, else the exit code to use (the message has been
 * printed). Call PyImport_AppendInittab before this. */
int rust_embed_initialize(const char *home, int argc, char *const *argv)
{
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    PyStatus status = PyConfig_SetBytesString(&config, &config.home, home);
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetBytesArgv(&config, argc, argv);
    }
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (!PyStatus_Exception(status)) {
        return 0;
    }
    if (PyStatus_IsExit(status)) {
        return status.exitcode;
    }
    fprintf(stderr, "rust-embed: Python initialization failed: %s%s%s\n", status.func ? status.func : "",
            status.func ? ": " : "", status.err_msg ? status.err_msg : "unknown error");
    return 1;
}
