/* A library that embeds Python: embed_run(code) runs code in an isolated interpreter on the stdlib zip
 * beside the executable. */
#include <Python.h>
#include <relink_embed.h>
int embed_run(const char *code) {
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    PyStatus status = relink_config_use_stdlib_zip(&config, RELINK_STDLIB_ZIP_NAME);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
    int raised = PyRun_SimpleString(code);
    return Py_FinalizeEx() < 0 ? 120 : raised ? 1 : 0;
}
