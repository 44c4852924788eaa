/* A C++ program embedding Python: its link is driven by the C++ compiler. */
#include <Python.h>
#include <relink_embed.h>
#include <string>
int main(int argc, char **argv) {
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    PyStatus status = relink_config_use_stdlib_zip(&config, RELINK_STDLIB_ZIP_NAME);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
    std::string code = "import json; print('c++:', json.dumps([1, 2]))";
    int raised = PyRun_SimpleString(code.c_str());
    return Py_FinalizeEx() < 0 ? 120 : raised ? 1 : 0;
}
