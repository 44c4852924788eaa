/* c-embed: an isolated CPython interpreter inside a C program, linked by relink's CMake package.
 *
 * The stdlib travels with the executable: python3XY.zip beside it (relink_target_link_python copies it
 * there), found from the executable's own location by relink_embed.h, so the program runs wherever it
 * is copied or installed together with its zip. Exit code: 1 if the Python code raised or the stdlib is
 * missing, 120 if finalization failed, else 0.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <relink_embed.h>

static const char script[] =
    "import json, math, sys\n"
    "data = {'hypot': math.hypot(3, 4), 'primes': [n for n in range(2, 20) if all(n % d for d in range(2, n))]}\n"
    "print(json.dumps(data, sort_keys=True))\n"
    "print('round trip:', json.loads(json.dumps(data)) == data)\n"
    "print('builtin:', ' '.join(m for m in ('_json', 'math') if m in sys.builtin_module_names))\n"
    "print('stdlib:', json.__file__)\n";

int main(int argc, char **argv)
{
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    PyStatus status = relink_config_use_stdlib_zip(&config, RELINK_STDLIB_ZIP_NAME);
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
