/* relink_embed.h: the stdlib that travels with a program embedding a relinked CPython.
 *
 * `relink stdlib DIST -o python3XY.zip` writes the distribution's stdlib as bytecode; relink's CMake
 * package (relink_target_link_python ... STDLIB) and generated projects put it beside the executable.
 * relink_config_use_stdlib_zip(&config, RELINK_STDLIB_ZIP_NAME) makes that zip, found from the running
 * executable's own location, the interpreter's only module search path and its folder the home, so
 * nothing of the build machine (or any other Python on the machine) is read. Call it after
 * PyConfig_Init*Config and before Py_InitializeFromConfig; a missing zip is an error status naming it.
 */
#ifndef RELINK_EMBED_H
#define RELINK_EMBED_H

#include <Python.h>
#include <stdio.h>
#include <string.h>
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#include <stdlib.h>
#include <stdint.h>
#elif !defined(_WIN32)
#include <unistd.h>
#endif

#define RELINK_EMBED_STR2(x) #x
#define RELINK_EMBED_STR(x) RELINK_EMBED_STR2(x)
/* CPython's name for a zipped stdlib, for the Python this file is compiled against: "python311.zip". */
#define RELINK_STDLIB_ZIP_NAME "python" RELINK_EMBED_STR(PY_MAJOR_VERSION) RELINK_EMBED_STR(PY_MINOR_VERSION) ".zip"

#ifdef _WIN32
static PyStatus relink_config_use_stdlib_zip(PyConfig *config, const char *name)
{
    static wchar_t dir[32768];
    wchar_t zip[32768];
    DWORD n = GetModuleFileNameW(NULL, dir, 32768);
    wchar_t *slash = n ? wcsrchr(dir, L'\\') : NULL;
    if (slash == NULL) {
        return PyStatus_Error("relink_embed: cannot locate the executable");
    }
    *slash = L'\0';
    _snwprintf(zip, 32768, L"%ls\\%hs", dir, name);
    PyStatus status = PyConfig_SetString(config, &config->home, dir);
    if (PyStatus_Exception(status)) {
        return status;
    }
    config->module_search_paths_set = 1;
    return PyWideStringList_Append(&config->module_search_paths, zip);
}
#else
static PyStatus relink_config_use_stdlib_zip(PyConfig *config, const char *name)
{
    static char message[4200];  /* a PyStatus keeps a pointer to its message */
    char dir[4096];
    char zip[4096 + 256];
#if defined(__APPLE__)
    char raw[4096];
    uint32_t size = sizeof(raw);
    if (_NSGetExecutablePath(raw, &size) != 0 || realpath(raw, dir) == NULL) {
        return PyStatus_Error("relink_embed: cannot locate the executable");
    }
#else
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
    if (n <= 0) {
        return PyStatus_Error("relink_embed: cannot locate the executable (/proc/self/exe)");
    }
    dir[n] = '\0';
#endif
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    snprintf(zip, sizeof(zip), "%s/%s", dir, name);
    FILE *file = fopen(zip, "rb");
    if (file == NULL) {
        snprintf(message, sizeof(message), "the stdlib %s is missing: put it beside the executable "
                 "('relink stdlib DIST -o %s')", zip, zip);
        return PyStatus_Error(message);
    }
    fclose(file);
    PyStatus status = PyConfig_SetBytesString(config, &config->home, dir);
    if (PyStatus_Exception(status)) {
        return status;
    }
    wchar_t *zip_w = Py_DecodeLocale(zip, NULL);
    if (zip_w == NULL) {
        return PyStatus_Error("relink_embed: cannot decode the stdlib zip's path");
    }
    config->module_search_paths_set = 1;
    status = PyWideStringList_Append(&config->module_search_paths, zip_w);
    PyMem_RawFree(zip_w);
    return status;
}
#endif

#endif /* RELINK_EMBED_H */
