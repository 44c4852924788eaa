/* An executable that knows nothing of Python: it calls the library that embeds it. */
int embed_run(const char *code);
int main(void) { return embed_run("import math, sys; print('library:', math.factorial(10), 'math' in sys.builtin_module_names)"); }
