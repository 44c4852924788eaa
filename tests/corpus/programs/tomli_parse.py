"""tomli (compiled with mypyc: its package __init__ is itself a native module)."""
import tomli

document = tomli.loads('[tool.relink]\nname = "x"\nlevels = [1, 2, 3]\n[tool.relink.nested]\nok = true\n')
print(document)
print(type(tomli.loads).__name__)
