/* c-embed: an isolated CPython interpreter inside a C program, linked by relink's CMake package.
 *
 * PyConfig.home is the distribution's python/install (compiled in as C_EMBED_PYTHON_HOME; the
 * C_EMBED_HOME environment variable overrides it at run time), so the stdlib is the distribution's own
 * lib/python3.X. Exit code: 1 if the Python code raised, 120 if finalization failed, else 0.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>

static const char script[] =
    "import json, math, sys\n"
    "data = {'hypot': math.hypot(3, 4), 'primes': [n for n in range(2, 20) if all(n % d for d in range(2, n))]}\n"
    "print(json.dumps(data, sort_keys=True))\n"
    "print('round trip:', json.loads(json.dumps(data)) == data)\n"
    "print('builtin:', ' '.join(m for m in ('_json', 'math') if m in sys.builtin_module_names))\n"
    "print('stdlib:', json.__file__)\n";

int main(int argc, char **argv)
{
    const char *home = getenv("C_EMBED_HOME");
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    PyStatus status = PyConfig_SetBytesString(&config, &config.home, home ? home : C_EMBED_PYTHON_HOME);
    if (!PyStatus_Exception(status)) {
        status = PyConfig_SetBytesArgv(&config, argc, argv);
    }
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        Py_ExitStatusException(status); /* prints the reason, exits with 1 (or the status's exit code) */
    }
    int raised = PyRun_SimpleString(script) != 0;
    if (Py_FinalizeEx() < 0) {
        return 120;
    }
    return raised ? 1 : 0;
}
