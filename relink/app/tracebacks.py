"""Runs inside a built app (embedded as `_relink_tracebacks`), never imported by relink itself.

The embedded code names its files relatively (`app.py`, `mypkg/cli.py`, `json/decoder.py`: no build
machine's paths), and both traceback printers read a relative name from the current folder first, so a
same-named file there would be shown as the source of a frame. The launcher prints an uncaught exception
with one of these instead:
- `with_source` (`--embed-source`): each embedded frame's source, read through its module's loader, goes
  into linecache before the traceback module prints (so the lines shown are the embedded ones);
- `without_source`: the built-in printer, while the `io` module it opens files with finds none, so no
  frame shows a source line, as stock python prints a frame whose file it cannot find.
"""

import sys


def _tracebacks(exc, seen):
    """The tracebacks of `exc` and of the exceptions it chains or groups, each once."""
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc.__traceback__
        for inner in getattr(exc, "exceptions", ()) or ():
            yield from _tracebacks(inner, seen)
        if exc.__cause__ is not None:
            yield from _tracebacks(exc.__cause__, seen)
        exc = exc.__context__


def with_source(exc_type, exc, tb):
    import linecache
    import traceback

    if exc is not None and exc.__traceback__ is None:
        exc.__traceback__ = tb
    for frames in _tracebacks(exc, set()):
        while frames is not None:
            frame, frames = frames.tb_frame, frames.tb_next
            filename = frame.f_code.co_filename
            if filename.startswith(("/", "<")) or filename in linecache.cache:
                continue
            loader, source = frame.f_globals.get("__loader__"), None
            try:
                source = loader.get_source(frame.f_globals.get("__name__"))
            except Exception:  # no loader, or one that cannot say: no source line
                pass
            lines = source.splitlines(True) if source else []
            linecache.cache[filename] = (len(source or ""), None, lines, filename)  # mtime None: kept
    traceback.print_exception(exc_type, exc, tb)


def without_source(exc_type, exc, tb):
    real = sys.modules["io"]

    def no_file(file, *args, **kwargs):
        raise FileNotFoundError(2, "not read for tracebacks", file)

    stub = type(sys)("io")
    stub.__getattr__ = lambda name: getattr(real, name)
    stub.open = no_file
    sys.modules["io"] = stub
    try:
        sys.__excepthook__(exc_type, exc, tb)
    finally:
        sys.modules["io"] = real
