"""`relink toolchain check DIST`: can this compiler, linker and rustc read the distribution's objects?

`add_consumer_arguments` and `gate_from_args` give every command that compiles or links a distribution
the same `--cc/--linker/--rustc` options and the `--skip-toolchain-check` override.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from relink import json_output
from relink.errors import ExitCode, RelinkError
from relink.toolchain import pinned_toolchain

if TYPE_CHECKING:
    from relink.distribution import Distribution
    from relink.toolchain import ToolchainReport

__all__ = ["register", "add_consumer_arguments", "gate_from_args"]


def add_consumer_arguments(parser: argparse.ArgumentParser, *, skip_flag: bool = True) -> None:
    """Add --cc, --linker, --rustc (and --skip-toolchain-check) to a command that uses a distribution."""
    parser.add_argument("--cc", help=f"C compiler driver (default: the pinned {pinned_toolchain().clang})")
    parser.add_argument("--linker", help="linker to check, e.g. ld.lld-22, ld, ld.gold")
    parser.add_argument("--rustc", help="rustc to check, e.g. rustc")
    if skip_flag:
        parser.add_argument(
            "--skip-toolchain-check", action="store_true",
            help="go on even if the toolchain gate refuses (e.g. an older LLVM than the objects')",
        )


def gate_from_args(args: argparse.Namespace, dist: Distribution | str) -> ToolchainReport:
    """Run the gate with the options from `add_consumer_arguments`; raises on refusal unless skipped."""
    from relink.toolchain import run_gate

    return run_gate(
        dist, cc=args.cc, rustc=args.rustc, linker=args.linker,
        allow_mismatch=getattr(args, "skip_toolchain_check", False),
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("toolchain", help="check a toolchain against a distribution's objects")
    sub = parser.add_subparsers(dest="toolchain_command", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="compare the LLVM that produced the objects with the compiler, linker and rustc",
        description="Read the objects' real format and producing LLVM, detect the consumers' LLVM, and say "
        "ok, warn (newer LLVM major) or refuse (older LLVM, or a linker without LLVM on bitcode; exit 4).",
    )
    check.add_argument("dist", metavar="DIST", help="full archive (.tar.zst/.tar.gz), extracted folder or PYTHON.json")
    add_consumer_arguments(check, skip_flag=False)
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(func=_check)


def _print_report(report: ToolchainReport) -> None:
    survey = report.survey
    print(f"distribution: {report.distribution}")
    producer = f" from LLVM {survey.producer_version}" if survey.producer_version else ""
    print(f"objects: {survey.checked} checked: {survey.effective_format}{producer} (metadata: {survey.declared})")
    for label, count in sorted(survey.formats.items()):
        print(f"  {count:5d}  {label}")
    for line in survey.disagreements:
        print(f"  disagreement: {line}")
    for verdict in report.consumers:
        print(f"{verdict.verdict:7s}{verdict.reason}")
    print(f"verdict: {report.verdict}")


def _check(args: argparse.Namespace) -> int:
    from relink.toolchain import run_gate

    report = run_gate(args.dist, cc=args.cc, rustc=args.rustc, linker=args.linker, allow_mismatch=True)
    # The full report is printed before refusing, so the user sees every consumer's verdict.
    if args.json:
        print(json_output.dumps(report.to_json()))
    else:
        _print_report(report)
    if report.refused:
        raise RelinkError(report.refusal_line(), ExitCode.TOOLCHAIN)
    return ExitCode.OK
