/* relink single-file launcher.
 *
 * The executable carries its Python code as a zip appended to itself (zipimport skips the leading
 * machine code), so the embedded stdlib is always this file; the rest is configured like the stock
 * interpreter (PyConfig_InitPythonConfig): locale coercion and UTF-8 mode (PEP 538/540), signal handlers.
 *
 * Two modes, chosen by the zip's comment:
 * - "RELINK-APP": the embedded __main__ is the program and every argument is the app's. Like
 *   `python -I -S app.py`: no PYTHON* variable, site-packages or folder of the machine is read.
 *   sys.executable is this file, and a child started as sys.executable (subprocess, multiprocessing
 *   spawn/forkserver) runs as the interpreter, not the app: the app exports RELINK_INTERPRETER=<this
 *   file> and a launcher whose argv[0] and RELINK_INTERPRETER both name it behaves as a plain python.
 * - otherwise, or in such a child: a plain `python` (-c, -m, script.py, REPL, -E -I -S -X, PYTHONPATH,
 *   site-packages and .pth files under the prefix, venvs), whose stdlib is the embedded zip.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char APP_MARKER[] = "RELINK-APP";
static const char INTERPRETER_ENV[] = "RELINK_INTERPRETER";

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

/* `_relink_dl.memfd_create(name)`: an anonymous in-memory file (close-on-exec), through the system call
 * rather than glibc's wrapper (2.27), so it exists in apps linked for an older glibc floor, whose
 * interpreter has no os.memfd_create. OSError where the kernel or the CPU's headers lack it. */
static PyObject *relink_memfd_create(PyObject *self, PyObject *arg) {
#ifdef SYS_memfd_create
    PyObject *name = NULL;
    if (!PyUnicode_FSConverter(arg, &name)) return NULL;
    long fd = syscall(SYS_memfd_create, PyBytes_AS_STRING(name), 1u /* MFD_CLOEXEC */);
    Py_DECREF(name);
    if (fd < 0) return PyErr_SetFromErrno(PyExc_OSError);
    return PyLong_FromLong(fd);
#else
    errno = ENOSYS;
    return PyErr_SetFromErrno(PyExc_OSError);
#endif
}

static PyMethodDef relink_dl_methods[] = {
    {"dlopen", relink_dlopen, METH_O, "Load a shared library (RTLD_NOW | RTLD_LOCAL)."},
    {"memfd_create", relink_memfd_create, METH_O, "An anonymous in-memory file (MFD_CLOEXEC); returns its fd."},
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

/* Cut the last `levels` components off a path ("/a/b/c", 2 -> "/a"; never less than "/"). */
static void parent_dir(char *path, int levels) {
    for (int level = 0; level < levels; level++) {
        char *slash = strrchr(path, '/');
        if (slash == NULL) break;
        *slash = '\0';
    }
    if (path[0] == '\0') strcpy(path, "/");
}

/* A venv made with --copies holds a copy of this file: its pyvenv.cfg (beside or above the executable)
 * names the base interpreter's folder in `home`. Returns 1 and that folder in `home`, or 0. */
static int venv_home(const char *exe, char *home, size_t size) {
    char cfg[PATH_MAX];
    for (int levels = 1; levels <= 2; levels++) {
        snprintf(cfg, sizeof(cfg), "%s", exe);
        parent_dir(cfg, levels);
        strncat(cfg, "/pyvenv.cfg", sizeof(cfg) - strlen(cfg) - 1);
        FILE *f = fopen(cfg, "r");
        if (f == NULL) continue;
        char line[PATH_MAX + 32];
        int found = 0;
        while (!found && fgets(line, sizeof(line), f) != NULL) {
            char *equal = strchr(line, '=');
            if (equal == NULL) continue;
            char *key = line, *end = equal;
            while (*key == ' ' || *key == '\t') key++;
            while (end > key && (end[-1] == ' ' || end[-1] == '\t')) end--;
            if (end - key != 4 || strncmp(key, "home", 4) != 0) continue;
            char *value = equal + 1;
            while (*value == ' ' || *value == '\t') value++;
            value[strcspn(value, "\r\n")] = '\0';
            for (char *tail = value + strlen(value); tail > value && (tail[-1] == ' ' || tail[-1] == '\t'); ) *--tail = '\0';
            snprintf(home, size, "%s", value);
            found = 1;
        }
        fclose(f);
        return found;
    }
    return 0;
}

/* The prefix of an installed python: the folder above the one holding the executable (PREFIX/bin/python),
 * so site-packages is PREFIX/lib/pythonX.Y/site-packages, as for the stock interpreter. In a venv made of
 * a copy, the base interpreter's prefix (site.py then makes the venv sys.prefix, as usual). */
static PyStatus set_prefix(PyConfig *config, const char *exe, int venv) {
    char prefix[PATH_MAX];
    if (venv && venv_home(exe, prefix, sizeof(prefix))) {
        parent_dir(prefix, 1);
    } else {
        snprintf(prefix, sizeof(prefix), "%s", exe);
        parent_dir(prefix, 2);
    }
    PyStatus status = PyConfig_SetBytesString(config, &config->prefix, prefix);
    if (PyStatus_Exception(status)) return status;
    return PyConfig_SetBytesString(config, &config->exec_prefix, prefix);
}

/* sys.path without a stdlib on disk: PYTHONPATH's entries (NULL: none, for -E/-I), then this file, then
 * (interpreter mode: `platlibdir` not NULL) PREFIX/lib/pythonXY.zip, which stock python always lists for a
 * zipped stdlib: after the embedded stdlib, so it can add modules but never replace them. */
static PyStatus set_search_path(PyConfig *config, const wchar_t *exe_w, const wchar_t *pythonpath,
                                const wchar_t *platlibdir) {
    PyStatus status;
    config->module_search_paths_set = 1;
    if (pythonpath != NULL && pythonpath[0] != L'\0') {
        char cwd_bytes[PATH_MAX];
        wchar_t *cwd = Py_DecodeLocale(getcwd(cwd_bytes, sizeof(cwd_bytes)) ? cwd_bytes : "", NULL);
        if (cwd == NULL) return PyStatus_NoMemory();
        const wchar_t *entry = pythonpath;
        while (1) {
            const wchar_t *end = wcschr(entry, L':');
            size_t len = end ? (size_t)(end - entry) : wcslen(entry);
            /* Relative entries (and empty ones: the current folder) are made absolute, as getpath does. */
            size_t size = wcslen(cwd) + len + 2;
            wchar_t *path = PyMem_RawMalloc(size * sizeof(wchar_t));
            if (path == NULL) {
                PyMem_RawFree(cwd);
                return PyStatus_NoMemory();
            }
            if (len > 0 && entry[0] == L'/') {
                swprintf(path, size, L"%.*ls", (int)len, entry);
            } else if (len == 0) {
                swprintf(path, size, L"%ls", cwd);
            } else {
                swprintf(path, size, L"%ls/%.*ls", cwd, (int)len, entry);
            }
            status = PyWideStringList_Append(&config->module_search_paths, path);
            PyMem_RawFree(path);
            if (PyStatus_Exception(status) || end == NULL) break;
            entry = end + 1;
        }
        PyMem_RawFree(cwd);
        if (PyStatus_Exception(status)) return status;
    }
    status = PyWideStringList_Append(&config->module_search_paths, exe_w);
    if (PyStatus_Exception(status) || platlibdir == NULL) return status;
    size_t size = wcslen(config->prefix) + wcslen(platlibdir) + 32;
    wchar_t *zip = PyMem_RawMalloc(size * sizeof(wchar_t));
    if (zip == NULL) return PyStatus_NoMemory();
    swprintf(zip, size, L"%ls/%ls/python%d%d.zip", config->prefix, platlibdir, PY_MAJOR_VERSION, PY_MINOR_VERSION);
    status = PyWideStringList_Append(&config->module_search_paths, zip);
    PyMem_RawFree(zip);
    return status;
}

/* Prefix and search path; after pre-initialisation, so paths decode as Python will encode them. */
static PyStatus set_paths(PyConfig *config, const char *exe, const wchar_t *pythonpath, int venv,
                          const wchar_t *platlibdir) {
    PyStatus status = set_prefix(config, exe, venv);
    if (PyStatus_Exception(status)) return status;
    wchar_t *exe_w = Py_DecodeLocale(exe, NULL);
    if (exe_w == NULL) return PyStatus_Error("cannot decode the executable's path");
    status = set_search_path(config, exe_w, pythonpath, platlibdir);
    PyMem_RawFree(exe_w);
    return status;
}

static int run_interpreter(const char *exe, int argc, char **argv) {
    PyStatus status;
    PyConfig config;
    /* A first configuration only parses the command line and the environment (and pre-initialises:
     * locale, UTF-8 mode): -E/-I decide whether PYTHONPATH counts. The real one parses them again
     * itself: a configuration read twice loses options such as -X warn_default_encoding. */
    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (PyStatus_Exception(status)) return fail(&config, status);
    status = PyConfig_Read(&config);
    if (PyStatus_Exception(status)) return fail(&config, status);
    wchar_t *pythonpath = NULL;
    if (config.use_environment && config.pythonpath_env != NULL) {
        size_t size = (wcslen(config.pythonpath_env) + 1) * sizeof(wchar_t);
        pythonpath = PyMem_RawMalloc(size);
        if (pythonpath == NULL) return fail(&config, PyStatus_NoMemory());
        memcpy(pythonpath, config.pythonpath_env, size);
    }
    wchar_t platlibdir[64] = L"lib";
    if (config.platlibdir != NULL && wcslen(config.platlibdir) < 64) wcscpy(platlibdir, config.platlibdir);
    PyConfig_Clear(&config);

    /* sys.executable is left to the path calculation (argv[0], PATH), so a venv's bin/python is
     * recognised as such. The stdlib never comes from the prefix: no warning about a missing one. */
    PyConfig_InitPythonConfig(&config);
    config.pathconfig_warnings = 0;
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (PyStatus_Exception(status)) goto error;
    status = set_paths(&config, exe, pythonpath, 1, platlibdir);
    PyMem_RawFree(pythonpath);
    pythonpath = NULL;
    if (PyStatus_Exception(status)) goto error;
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status)) goto error;
    PyConfig_Clear(&config);
    return Py_RunMain();

error:
    PyMem_RawFree(pythonpath);
    return fail(&config, status);
}

/* Uncaught exceptions are printed by the embedded `_relink_tracebacks` (relink/app/tracebacks.py): the
 * embedded code names its files relatively, and the built-in printer would show a same-named file in the
 * current folder as their source. With sources embedded (`relink build --embed-source`), it shows the
 * embedded source lines; otherwise none. Returns -1 with an exception set on failure. */
static int install_excepthook(PyObject *importer) {
    PyObject *source = PyObject_CallMethod(importer, "get_source", "s", "__main__");
    if (source == NULL) return -1;
    int embedded = source != Py_None;
    Py_DECREF(source);
    PyObject *tracebacks = PyImport_ImportModule("_relink_tracebacks");
    if (tracebacks == NULL) return -1;
    PyObject *printer = PyObject_GetAttrString(tracebacks, embedded ? "with_source" : "without_source");
    Py_DECREF(tracebacks);
    if (printer == NULL) return -1;
    int result = PySys_SetObject("excepthook", printer);
    Py_DECREF(printer);
    return result;
}

/* Run the zip's __main__ in the __main__ module, as `python script.py` runs a script: no runpy frames
 * in tracebacks, __spec__ None and __file__ this file (so multiprocessing's spawn re-runs it as
 * __mp_main__ with runpy.run_path). Returns the exit status; SystemExit exits from PyErr_Print. */
static int run_app_main(const char *exe) {
    int exitcode = 0, interrupted = 0;
    PyObject *main_module = PyImport_AddModule("__main__"); /* borrowed */
    PyObject *globals = main_module ? PyModule_GetDict(main_module) : NULL;
    PyObject *zipimport = NULL, *importer = NULL, *code = NULL, *file = NULL, *result = NULL;
    if (globals == NULL) goto error;
    zipimport = PyImport_ImportModule("zipimport");
    if (zipimport == NULL) goto error;
    importer = PyObject_CallMethod(zipimport, "zipimporter", "s", exe);
    if (importer == NULL) goto error;
    code = PyObject_CallMethod(importer, "get_code", "s", "__main__");
    if (code == NULL) goto error;
    file = PyUnicode_DecodeFSDefault(exe);
    if (file == NULL || PyDict_SetItemString(globals, "__file__", file) < 0 ||
        PyDict_SetItemString(globals, "__loader__", importer) < 0 ||
        PyDict_SetItemString(globals, "__cached__", Py_None) < 0)
        goto error;
    if (install_excepthook(importer) < 0) goto error;
    result = PyEval_EvalCode(code, globals, globals);
    if (result == NULL) goto error;
    goto done;
error:
    interrupted = PyErr_ExceptionMatches(PyExc_KeyboardInterrupt);
    PyErr_Print();
    exitcode = 1;
done:
    Py_XDECREF(result);
    Py_XDECREF(file);
    Py_XDECREF(code);
    Py_XDECREF(importer);
    Py_XDECREF(zipimport);
    if (Py_FinalizeEx() < 0) exitcode = 120;
    if (interrupted) {
        /* Like the stock interpreter: die of SIGINT so the calling shell knows about the Ctrl-C. */
        signal(SIGINT, SIG_DFL);
        kill(getpid(), SIGINT);
        exitcode = 128 + SIGINT;
    }
    return exitcode;
}

static int run_app(const char *exe, int argc, char **argv) {
    PyStatus status;
    PyConfig config;
    /* Children started as sys.executable run the interpreter (see the header comment). */
    if (setenv(INTERPRETER_ENV, exe, 1) != 0) {
        fprintf(stderr, "%s: cannot set %s\n", argv[0], INTERPRETER_ENV);
        return 1;
    }
    PyConfig_InitPythonConfig(&config);
    config.isolated = 1; /* -I: also keeps PYTHONUTF8 & co from changing the app's text handling */
    config.use_environment = 0;
    config.user_site_directory = 0;
#if PY_VERSION_HEX >= 0x030B0000 /* 3.10 has no safe_path; its path comes only from the zip anyway */
    config.safe_path = 1;
#endif
    config.site_import = 0;
    config.write_bytecode = 0;
    config.parse_argv = 0; /* every argument is the app's */
    config.pathconfig_warnings = 0;
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (PyStatus_Exception(status)) return fail(&config, status);
    status = PyConfig_SetBytesString(&config, &config.executable, exe);
    if (PyStatus_Exception(status)) return fail(&config, status);
    status = set_paths(&config, exe, NULL, 0, NULL);
    if (PyStatus_Exception(status)) return fail(&config, status);
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status)) return fail(&config, status);
    PyConfig_Clear(&config);
    return run_app_main(exe);
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
    if (app && argc > 0) {
        const char *interpreter = getenv(INTERPRETER_ENV);
        if (interpreter != NULL && strcmp(interpreter, exe) == 0 && strcmp(argv[0], exe) == 0) app = 0;
    }
    return app ? run_app(exe, argc, argv) : run_interpreter(exe, argc, argv);
}
