"""Pygments: lexer and formatter looked up by name (plugins imported by name)."""
from pygments import highlight
from pygments.formatters import get_formatter_by_name
from pygments.lexers import get_lexer_by_name, guess_lexer_for_filename

code = "def f(x):\n    return x + 1  # add one\n"
print(highlight(code, get_lexer_by_name("python"), get_formatter_by_name("html", nowrap=True)))
print(guess_lexer_for_filename("x.rs", "fn main() {}").name)
print(highlight("SELECT 1;", get_lexer_by_name("sql"), get_formatter_by_name("terminal")), end="")
