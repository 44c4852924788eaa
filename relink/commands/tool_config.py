"""`[tool.relink]` in an app's pyproject.toml: the defaults of `relink build`'s options, kept with the app.

Each key is the long name of a `relink build` option (`app`, `entry`, `include`, `extensions`, `stdlib`,
`exclude`, `output`, `optimize`, `no-copyleft`, `fast-link`, …, and the positional `dist`), so any option
`relink build` has can be kept there. Paths are relative to the pyproject.toml's folder. An option given on
the command line overrides the key; for repeatable options (`include`, `exclude`) the command line's values
replace the key's list. A key that is not an option, or a value of the wrong type, is one line naming the
file and the key (exit 3).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from relink.errors import RelinkError

__all__ = ["CONFIG_FILE", "record_explicit_options", "apply_tool_config"]

CONFIG_FILE = "pyproject.toml"
_NOT_CONFIGURABLE = {"help", "quiet", "json", "verbose"}


def record_explicit_options(parser: argparse.ArgumentParser) -> None:
    """Make `parser` record in `namespace.explicit` the dest of every option the command line gave."""
    for action in parser._actions:
        base = type(action)

        class Recording(base):  # type: ignore[valid-type, misc]
            def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
                if option_string is not None or values not in (None, []):  # positionals are called even when absent
                    namespace.__dict__.setdefault("explicit", set()).add(self.dest)
                super().__call__(parser, namespace, values, option_string)

        Recording.__name__ = base.__name__
        action.__class__ = Recording


def _load(path: Path) -> dict[str, Any] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise RelinkError(f"{path}: cannot read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise RelinkError(f"{path}: not valid TOML ({error})") from None
    table = document.get("tool", {}).get("relink")
    if table is not None and not isinstance(table, dict):
        raise RelinkError(f"{path}: [tool.relink] must be a table")
    return table


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Configurable actions by key: the long option name without dashes (`no-copyleft`), or a positional's dest."""
    keys: dict[str, argparse.Action] = {}
    for action in parser._actions:
        if action.dest in _NOT_CONFIGURABLE or action.dest == argparse.SUPPRESS:
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        keys[longs[0][2:] if longs else action.dest.replace("_", "-")] = action
    return keys


def _value(path: Path, key: str, action: argparse.Action, raw: Any, folder: Path) -> Any:
    where = f"{path}: [tool.relink] {key}"

    def one(item: Any) -> Any:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise RelinkError(f"{where}: expected a string{' or number' if action.type is int else ''}, "
                              f"got {item!r}")
        if action.type is int:
            if not isinstance(item, int):
                raise RelinkError(f"{where}: expected a number, got {item!r}")
        elif isinstance(item, int):
            raise RelinkError(f"{where}: expected a string, got {item!r}")
        if action.choices is not None and item not in action.choices:
            raise RelinkError(f"{where}: {item!r} is not one of {', '.join(map(str, action.choices))}")
        if action.type is Path:
            return folder / item
        if action.dest == "dist" and (folder / item).exists():
            return str(folder / item)
        return item

    if action.nargs == 0:  # a flag such as --no-copyleft
        if not isinstance(raw, bool):
            raise RelinkError(f"{where}: expected true or false, got {raw!r}")
        return action.const if raw else action.default
    if isinstance(action, argparse._AppendAction):
        items = raw if isinstance(raw, list) else [raw]
        return [one(item) for item in items]
    if isinstance(raw, list):  # extensions = ["minimal", "+_json"] is "minimal,+_json"
        return one(",".join(str(one(item)) for item in raw))
    return one(raw)


def apply_tool_config(args: argparse.Namespace, parser: argparse.ArgumentParser, folder: Path) -> Path | None:
    """Fill the options the command line did not give from `folder/pyproject.toml`'s [tool.relink];
    returns that file when it has the table."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        return None
    table = _load(path)
    if table is None:
        return None
    options = _options(parser)
    explicit = getattr(args, "explicit", set())
    for raw_key, raw in table.items():
        key = raw_key.replace("_", "-")
        action = options.get(key)
        if action is None:
            raise RelinkError(f"{path}: [tool.relink] {raw_key}: not a `relink build` option (known: "
                              f"{', '.join(sorted(options))})")
        value = _value(path, raw_key, action, raw, path.parent)
        if action.dest not in explicit:
            setattr(args, action.dest, value)
    return path
