"""`relink cache dir|size|prune|clean`: where the cache is, what it holds, and removing what is not used.

This module owns the command's arguments and output; the work (locking out other relink processes while
removing, finding entries and their last use) is `relink.support.cache_manage`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from relink import json_output
from relink.errors import EXIT_CODES_HELP

__all__ = ["register"]

DEFAULT_AGE = "30d"

_DESCRIPTION = """\
relink caches what it extracts, downloads, builds and links under $RELINK_CACHE_DIR (else
$XDG_CACHE_HOME/relink, else ~/.cache/relink). Everything in it can be made again.

  dir     print the cache folder
  size    bytes on disk per top-level folder (interpreters, extracted, dists, thinlto, ...) and in total
  prune   remove the entries not used for --older-than (default 30d): an entry is one child of a top-level
          folder; its last use is the newest access or change time of anything in it
  clean   remove everything

prune and clean wait until no other relink process is using the cache (each holds a shared lock on
<cache>/.in-use.lock while it runs), and relink processes that start meanwhile wait for them: removing never
pulls files from under a running build. --no-wait fails at once instead (exit 3)."""


def _root() -> Path:
    from relink.support.cache import cache_location

    return cache_location()


def _size_text(size: int) -> str:
    from relink.support import human_bytes

    return human_bytes(size)


def _run_dir(args: argparse.Namespace) -> int:
    print(_root())
    return 0


def _run_size(args: argparse.Namespace) -> int:
    from relink.support.cache_manage import cache_entries

    root = _root()
    folders: dict[str, int] = {}
    for entry in cache_entries(root):
        top = entry.path.relative_to(root).parts[0]
        folders[top] = folders.get(top, 0) + entry.size
    total = sum(folders.values())
    if args.json:
        print(json_output.dumps({"root": str(root), "total_bytes": total, "folders": folders}))
        return 0
    width = max((len(name) for name in folders), default=0)
    for name, size in sorted(folders.items(), key=lambda item: -item[1]):
        print(f"{name:<{width}}  {_size_text(size):>10}")
    print(f"{'total':<{width}}  {_size_text(total):>10}  {root}")
    return 0


def _run_prune(args: argparse.Namespace) -> int:
    from relink.support.cache_manage import parse_age, prune_cache

    age = parse_age(args.older_than)
    root = _root()
    removed, kept = prune_cache(root, age, dry_run=args.dry_run, wait=not args.no_wait)
    freed = sum(entry.size for entry in removed)
    if args.json:
        now = time.time()
        print(json_output.dumps({
            "root": str(root), "dry_run": args.dry_run, "older_than_seconds": age, "freed_bytes": freed,
            "removed": [{"path": str(e.path), "bytes": e.size, "idle_days": round((now - e.last_used) / 86400, 2)}
                        for e in removed],
            "kept_entries": len(kept), "kept_bytes": sum(entry.size for entry in kept),
        }))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for entry in removed:
        print(f"{verb} {entry.path.relative_to(root)} ({_size_text(entry.size)})")
    print(f"{verb} {len(removed)} entries not used for {args.older_than} ({_size_text(freed)}); kept {len(kept)} "
          f"({_size_text(sum(entry.size for entry in kept))}) in {root}")
    return 0


def _run_clean(args: argparse.Namespace) -> int:
    from relink.support.cache_manage import clean_cache

    root = _root()
    freed = clean_cache(root, wait=not args.no_wait)
    if args.json:
        print(json_output.dumps({"root": str(root), "freed_bytes": freed}))
    else:
        print(f"removed everything in {root} ({_size_text(freed)})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cache", help="show, measure, prune or empty relink's cache", description=_DESCRIPTION,
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    actions.add_parser("dir", help="print the cache folder").set_defaults(func=_run_dir)
    size = actions.add_parser("size", help="bytes on disk per top-level folder and in total")
    size.add_argument("--json", action="store_true", help="print the sizes as JSON")
    size.set_defaults(func=_run_size)
    prune = actions.add_parser("prune", help=f"remove entries not used for a while (default {DEFAULT_AGE})")
    prune.add_argument("--older-than", default=DEFAULT_AGE, metavar="AGE",
                       help="30d, 12h, 90m, 2w or a number of days (default: %(default)s)")
    prune.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    clean = actions.add_parser("clean", help="remove everything in the cache")
    for action in (prune, clean):
        action.add_argument("--no-wait", action="store_true",
                            help="fail (exit 3) instead of waiting while other relink processes use the cache")
        action.add_argument("--json", action="store_true", help="print what was removed as JSON")
    prune.set_defaults(func=_run_prune)
    clean.set_defaults(func=_run_clean)
