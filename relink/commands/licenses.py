"""`relink licenses DIST --extensions SPEC`: the licenses of what a selection links, as text, JSON or SPDX.

This module owns the command's arguments and output only: the selection is `relink.plan.selection.make_plan`
(same options as `relink plan`), the report is `relink.report.licenses`, SPDX documents are `relink.report.spdx`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from relink.commands.plan import add_selection_arguments, plan_from_args
from relink.errors import EXIT_CODES_HELP
from relink.plan import SELECTION_HELP

__all__ = ["register", "run"]

FORMATS = ("text", "json", "spdx", "spdx-json")


def run(args: argparse.Namespace) -> int:
    from relink.report import (
        license_report_from_plan,
        render_json,
        render_spdx_json,
        render_spdx_tag_value,
        render_text,
    )
    from relink.support import atomic_write_bytes, refuse_overwriting_inputs

    renderers = {"text": render_text, "json": render_json, "spdx": render_spdx_tag_value,
                 "spdx-json": render_spdx_json}
    plan, dist = plan_from_args(args)
    report = license_report_from_plan(dist, plan)
    output = renderers[args.format](report)
    if args.output:
        refuse_overwriting_inputs([Path(args.output)], [(dist.source, "the distribution")])
        atomic_write_bytes(Path(args.output), output.encode("utf-8"))
        print(f"{args.output}: {args.format} license report for {len(report.components)} components")
    else:
        sys.stdout.write(output)
    for note in report.notes:
        print(f"relink: note: {note}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "licenses",
        help="licenses of libpython plus the selected extensions (LICENSES.txt, JSON, SPDX 2.3)",
        description="Report the licenses of what a selection links: CPython and each bundled library "
        "(OpenSSL, SQLite, zlib, ...) with the extensions that pull it in, SPDX ids combined with AND, "
        "public-domain and copyleft flags, and the full license texts from the distribution. "
        "Texts PYTHON.json names but the archive lacks are reported as notes on stderr.",
        epilog=SELECTION_HELP + "\n\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_selection_arguments(parser)
    parser.add_argument(
        "--format", choices=FORMATS, default="text",
        help="text (LICENSES.txt: summary, then full texts), json, spdx (SPDX 2.3 tag-value) or spdx-json "
        "(default: %(default)s)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.set_defaults(func=run)
