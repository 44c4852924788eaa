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
#include <string.h>

/* Initialize an isolated interpreter (no environment variables, no user site-packages, no guessing
 * of paths): its only module search path is `stdlib_zip` (the stdlib as bytecode, from `relink stdlib`)
 * and its home the zip's folder, so nothing else on the machine is read. argv becomes sys.argv
 * unparsed. Returns 0 on success, else the exit code to use (the message has been printed). Call
 * PyImport_AppendInittab before this. */
int rust_embed_initialize(const char *stdlib_zip, int argc, char *const *argv)
{
    FILE *zip = fopen(stdlib_zip, "rb");
    if (zip == NULL) {
        fprintf(stderr, "rust-embed: cannot open the stdlib %s (write it with 'relink stdlib DIST -o %s')\n",
                stdlib_zip, stdlib_zip);
        return 1;
    }
    fclose(zip);
    char home[4096];
    snprintf(home, sizeof(home), "%s", stdlib_zip);
    char *slash = strrchr(home, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    wchar_t *zip_w = Py_DecodeLocale(stdlib_zip, NULL);
    if (zip_w == NULL) {
        fprintf(stderr, "rust-embed: cannot decode %s\n", stdlib_zip);
        return 1;
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    PyStatus status = PyConfig_SetBytesString(&config, &config.home, home);
    if (!PyStatus_Exception(status)) {
        config.module_search_paths_set = 1;
        status = PyWideStringList_Append(&config.module_search_paths, zip_w);
    }
    PyMem_RawFree(zip_w);
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
