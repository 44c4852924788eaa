/* relink single-file launcher.
 *
 * The executable carries its Python code as a zip appended to itself (zipimport skips the leading
 * machine code). The interpreter is isolated: its only module search path is this file, so nothing on
 * the machine it runs on (PYTHONPATH, site-packages, a stdlib elsewhere) is ever read.
 *
 * If the zip's comment is "RELINK-APP", the embedded __main__ is the program and every argument is the
 * app's; otherwise the file behaves as a normal `python` (-c, -m, script.py, REPL).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char APP_MARKER[] = "RELINK-APP";

/* True if the file ends with the app marker (the zip comment is the file's last bytes). */
static int ends_with_app_marker(const char *path) {
    size_t len = sizeof(APP_MARKER) - 1;
    char tail[sizeof(APP_MARKER)] = {0};
    FILE *f = fopen(path, "rb");
    if (f == NULL) return 0;
    int found = fseek(f, -(long)len, SEEK_END) == 0 && fread(tail, 1, len, f) == len &&
                memcmp(tail, APP_MARKER, len) == 0;
    fclose(f);
    return found;
}

/* `_relink_dl.dlopen(path)`: loads a shared library that an embedded native extension module needs
 * (auditwheel's <pkg>.libs), so the module's own DT_NEEDED finds it by soname. Used by the embedded
 * `_relink_memload`, which loads those libraries and modules from memory. */
static PyObject *relink_dlopen(PyObject *self, PyObject *arg) {
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) return NULL;
    void *handle = dlopen(PyBytes_AS_STRING(path), RTLD_NOW | RTLD_LOCAL);
    Py_DECREF(path);
    if (handle == NULL) {
        const char *reason = dlerror();
        PyErr_SetString(PyExc_OSError, reason ? reason : "dlopen failed");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef relink_dl_methods[] = {
    {"dlopen", relink_dlopen, METH_O, "Load a shared library (RTLD_NOW | RTLD_LOCAL)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef relink_dl_module = {
    PyModuleDef_HEAD_INIT, "_relink_dl", NULL, -1, relink_dl_methods,
};

static PyObject *PyInit__relink_dl(void) { return PyModule_Create(&relink_dl_module); }

static int fail(PyConfig *config, PyStatus status) {
    PyConfig_Clear(config);
    if (PyStatus_IsExit(status)) return status.exitcode;
    Py_ExitStatusException(status);
    return 1; /* not reached */
}

int main(int argc, char **argv) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        fprintf(stderr, "%s: cannot locate its own executable\n", argv[0]);
        return 1;
    }
    exe[n] = '\0';
    int app = ends_with_app_marker(exe);

    if (PyImport_AppendInittab("_relink_dl", PyInit__relink_dl) != 0) {
        fprintf(stderr, "%s: cannot register _relink_dl\n", argv[0]);
        return 1;
    }

    PyStatus status;
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.user_site_directory = 0;
    config.write_bytecode = 0;
    /* Isolated configs do not parse the command line; a plain interpreter must (-c, -m, …). */
    config.parse_argv = app ? 0 : 1;

    wchar_t *exe_w = Py_DecodeLocale(exe, NULL);
    if (exe_w == NULL) {
        fprintf(stderr, "%s: cannot decode its own path\n", argv[0]);
        return 1;
    }
    config.module_search_paths_set = 1;
    status = PyWideStringList_Append(&config.module_search_paths, exe_w);
    if (PyStatus_Exception(status)) goto error;
    /* A home that cannot exist: the path calculation must not go looking for a stdlib on disk. */
    status = PyConfig_SetString(&config, &config.home, L"/nonexistent/relink-embedded");
    if (PyStatus_Exception(status)) goto error;
    status = PyConfig_SetString(&config, &config.executable, exe_w);
    if (PyStatus_Exception(status)) goto error;
    if (app) {
        /* Running the file itself runs the zip's __main__, like `python app.pyz`. */
        status = PyConfig_SetString(&config, &config.run_filename, exe_w);
        if (PyStatus_Exception(status)) goto error;
    }
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (PyStatus_Exception(status)) goto error;

    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status)) goto error;
    PyConfig_Clear(&config);
    PyMem_RawFree(exe_w);
    return Py_RunMain();

error:
    PyMem_RawFree(exe_w);
    return fail(&config, status);
}
