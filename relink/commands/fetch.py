"""`relink fetch VERSION|NAME|URL`: download a python-build-standalone full archive into the cache.

This module owns the command's arguments (merging `--release/--target/--flavor` into a `cpython-…` name)
and its output: the archive's path on stdout, or a JSON record with `--json`. Fetching is `relink.distribution.fetch`.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING

from relink import json_output
from relink.distribution import MIRROR_ENV
from relink.errors import EXIT_CODES_HELP, ExitCode, RelinkError

if TYPE_CHECKING:
    from relink.distribution import DistRequest, FetchResult

__all__ = ["register", "request_from_args"]

_DESCRIPTION = f"""\
Download a python-build-standalone full archive (cpython-X.Y.Z+TAG-TRIPLE-OPTIONS-full.tar.zst) into relink's
cache and print its path. The sha256 is checked against the release's SHA256SUMS (or the asset's .sha256 in
older releases); a mismatch or a missing checksum refuses the file. Interrupted downloads resume.

WHAT is a version (3.12 = the newest 3.12.Z in the release, or 3.12.7), a name such as
cpython-3.12.7+20241016-x86_64-unknown-linux-gnu-pgo+lto, or an http(s) URL of an archive (verified by the
SHA256SUMS beside it). The same names and URLs work as DIST for every other command.

--mirror URL (or ${MIRROR_ENV}) names a server laid out like GitHub's release downloads:
  URL/latest-release.json        a copy of PBS's pointer (only its "tag" is read)
  URL/TAG/SHA256SUMS             the release's checksums
  URL/TAG/ASSET                  the archives (a '+' in ASSET is requested as %2B)
"""


def request_from_args(args: argparse.Namespace) -> DistRequest:
    """The `DistRequest` for WHAT plus --release/--target/--flavor; an option contradicting WHAT is refused."""
    from relink.distribution import DistRequest, parse_dist_name

    named = parse_dist_name(args.what)
    if named is None:
        raise RelinkError(
            f"{args.what!r} is not a version (3.12, 3.12.7), a name (cpython-3.12.7+20241016-…) or a URL",
            ExitCode.USAGE,
        )
    release = None if args.release in (None, "latest") else args.release
    if release is not None and not re.fullmatch(r"\d{8}", release):
        raise RelinkError(f"--release must be 'latest' or a YYYYMMDD tag, got {release!r}", ExitCode.USAGE)
    fields = {}
    for option, field, value in (("--release", "tag", release), ("--target", "triple", args.target),
                                 ("--flavor", "build_options", args.flavor)):
        given = getattr(named, field)
        if value is not None and given is not None and value != given:
            raise RelinkError(f"{option} {value} contradicts {args.what}", ExitCode.USAGE)
        fields[field] = given if given is not None else value
    return DistRequest(named.version, **fields)


def _run(args: argparse.Namespace) -> int:
    from relink.distribution import fetch_distribution, fetch_url

    quiet = args.quiet or args.json
    if args.what.startswith(("http://", "https://")):
        if args.release or args.target or args.flavor or args.mirror:
            raise RelinkError("--release, --target, --flavor and --mirror do not apply to a URL", ExitCode.USAGE)
        result = fetch_url(args.what, insecure=args.insecure, quiet=quiet)
    else:
        result = fetch_distribution(request_from_args(args), mirror=args.mirror, insecure=args.insecure,
                                    quiet=quiet)
    _report(result, args)
    return 0


def _report(result: FetchResult, args: argparse.Namespace) -> None:
    if args.json:
        print(json_output.dumps({
            "path": str(result.path), "asset": result.asset, "url": result.url, "release": result.tag,
            "sha256": result.sha256, "verified": result.sha256 is not None, "cached": result.cached,
        }))
        return
    if result.cached and not args.quiet:
        print(f"relink: {result.asset} is already in the cache", file=sys.stderr)
    print(result.path)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch", help="download a python-build-standalone full archive (verified, resumable, cached)",
        description=_DESCRIPTION, epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("what", metavar="WHAT", help="3.12, 3.12.7, cpython-3.12… or an http(s) URL")
    parser.add_argument("--release", metavar="TAG", help="release tag (YYYYMMDD) or 'latest' (the default)")
    parser.add_argument("--target", metavar="TRIPLE",
                        help="target triple (default: this machine's, e.g. x86_64-unknown-linux-gnu)")
    parser.add_argument("--flavor", metavar="OPTIONS",
                        help="build options: pgo+lto, lto, pgo, debug, noopt, freethreaded+…, …+static "
                             "(default: the optimized full archive: pgo+lto on glibc/macOS, lto on musl, "
                             "pgo on Windows)")
    parser.add_argument("--mirror", metavar="URL", help=f"release server laid out like GitHub's (default: "
                                                        f"${MIRROR_ENV}, else GitHub)")
    parser.add_argument("--insecure", action="store_true",
                        help="accept an archive for which no checksum is published (never one that mismatches)")
    parser.add_argument("--json", action="store_true", help="print path, asset, URL, sha256 and cache state as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or messages on stderr")
    parser.set_defaults(func=_run)
