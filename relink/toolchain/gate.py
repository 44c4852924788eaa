"""The toolchain gate: can these consumers read this distribution's objects? A verdict before any link.

LLVM bitcode is readable by the same or a newer LLVM major, never an older one, and not by GNU ld/gold
or gcc at all. `evaluate` turns an `ObjectSurvey` (what the bytes are, relink.toolchain.survey) and the detected
`Consumer`s (relink.toolchain.consumer) into a `ToolchainReport`: per consumer ok (same major, or native objects),
warn (newer major: readable, but not what PBS tested), or refuse (older major, or no LLVM), with one
remedy line. `run_gate` does it all for a distribution and raises RelinkError(TOOLCHAIN) on refusal
unless the caller passes `allow_mismatch` (the `--skip-toolchain-check` of build commands).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from relink.distribution import Distribution, open_distribution
from relink.errors import ExitCode, RelinkError
from relink.toolchain.consumer import Consumer, detect_cc, detect_linker, detect_rustc
from relink.toolchain.pin import pinned_toolchain
from relink.toolchain.survey import ObjectSurvey, survey_objects

__all__ = [
    "OK", "WARN", "REFUSE", "ConsumerVerdict", "ToolchainReport", "evaluate", "gate_objects", "survey_distribution",
    "run_gate",
]

OK, WARN, REFUSE = "ok", "warn", "refuse"
_SEVERITY = {OK: 0, WARN: 1, REFUSE: 2}


@dataclass(frozen=True)
class ConsumerVerdict:
    consumer: Consumer
    verdict: str
    reason: str

    def to_json(self) -> dict:
        return {"consumer": self.consumer.to_json(), "verdict": self.verdict, "reason": self.reason}


@dataclass
class ToolchainReport:
    """The gate's answer for one distribution and a set of consumers (JSON via `to_json`)."""

    distribution: str
    survey: ObjectSurvey
    consumers: list[ConsumerVerdict] = field(default_factory=list)
    verdict: str = OK
    remedy: str | None = None

    @property
    def refused(self) -> bool:
        return self.verdict == REFUSE

    def refusal_line(self) -> str:
        """One line: the first refusal's reason and what to do."""
        reasons = [v.reason for v in self.consumers if v.verdict == REFUSE]
        return f"{reasons[0] if reasons else 'toolchain refused'}: {self.remedy}"

    def to_json(self) -> dict:
        return {
            "distribution": self.distribution,
            "objects": self.survey.to_json(),
            "consumers": [v.to_json() for v in self.consumers],
            "verdict": self.verdict,
            "remedy": self.remedy,
        }


def _judge(consumer: Consumer, survey: ObjectSurvey) -> ConsumerVerdict:
    who = consumer.describe()
    if not survey.needs_llvm:
        return ConsumerVerdict(consumer, OK, f"{who}: native {survey.effective_format} objects, any toolchain links them")
    producer = survey.producer_version or "unknown"
    major = survey.producer_major
    if not consumer.reads_bitcode:
        why = "gcc drives GNU ld, which" if consumer.kind == "gcc" else "it"
        return ConsumerVerdict(
            consumer, REFUSE, f"{who} cannot read LLVM {producer} bitcode ({why} has no LLVM; "
            "'file format not recognized')",
        )
    if consumer.llvm_major is None:
        return ConsumerVerdict(
            consumer, REFUSE, f"{who} does not say which LLVM it is built on, so it may not read LLVM {producer} bitcode",
        )
    if major is None:
        return ConsumerVerdict(consumer, WARN, f"{who}: the bitcode does not name its producing LLVM; cannot check")
    if consumer.llvm_major == major:
        return ConsumerVerdict(consumer, OK, f"{who} reads LLVM {producer} bitcode (same major)")
    if consumer.llvm_major > major:
        return ConsumerVerdict(
            consumer, WARN, f"{who} is a newer LLVM major than the producer {producer}: it reads the bitcode, "
            "but LTO across LLVM majors is untested by python-build-standalone (different optimisation and "
            f"attribute handling); use LLVM {major} for an exact match if the result misbehaves",
        )
    return ConsumerVerdict(
        consumer, REFUSE, f"{who} is older than LLVM {producer}, which produced the bitcode: "
        "an LLVM cannot read bitcode from a newer major",
    )


def _remedy(survey: ObjectSurvey, distribution: str) -> str:
    major = survey.producer_major
    pinned = pinned_toolchain()
    lower = f"or run 'relink lower {distribution}' to turn the bitcode into native objects any linker can use"
    if major is not None and major > pinned.major:
        return f"install clang-{major} and lld-{major} (newer than relink's pinned LLVM {pinned.major}) and pass --cc clang-{major}, {lower} --cc clang-{major}"
    return (
        f"use the pinned toolchain ({pinned.clang} and {pinned.lld}, LLVM {pinned.major}: 'bash toolchain/setup.sh' "
        f"installs them; pass --cc {pinned.clang}), {lower}"
    )


def evaluate(survey: ObjectSurvey, consumers: list[Consumer], distribution: str) -> ToolchainReport:
    """The verdict for `consumers` on objects described by `survey` (pure: no processes, no files)."""
    verdicts = [_judge(c, survey) for c in consumers]
    worst = max((v.verdict for v in verdicts), key=_SEVERITY.__getitem__, default=OK)
    remedy = _remedy(survey, distribution) if worst == REFUSE else None
    return ToolchainReport(distribution, survey, verdicts, worst, remedy)


def _detect_consumers(cc: str | None, rustc: str | None, linker: str | None) -> list[Consumer]:
    consumers = [detect_cc(cc or pinned_toolchain().clang)]
    if linker:
        consumers.append(detect_linker(linker))
    if rustc:
        consumers.append(detect_rustc(rustc))
    return consumers


def gate_objects(
    survey: ObjectSurvey, distribution: str, cc: str | None = None, rustc: str | None = None,
    linker: str | None = None, allow_mismatch: bool = False,
) -> ToolchainReport:
    """Detect the consumers, judge them against `survey`, and raise on refusal unless `allow_mismatch`."""
    report = evaluate(survey, _detect_consumers(cc, rustc, linker), distribution)
    if report.refused and not allow_mismatch:
        raise RelinkError(report.refusal_line(), ExitCode.TOOLCHAIN)
    return report


def survey_distribution(dist: Distribution) -> ObjectSurvey:
    """Survey every file PYTHON.json lists: core and extension objects and the static libraries of link
    entries (headers only; the archive is extracted once either way). A metadata-only distribution is
    judged by its declaration alone."""
    build_info = dist.metadata.build_info
    declared = build_info.object_file_format
    if dist.is_metadata_only:
        return survey_objects(declared, [])
    return survey_objects(declared, ((rel, dist.path(rel)) for rel in build_info.listed_paths()))


def run_gate(
    dist: Distribution | str | os.PathLike[str], cc: str | None = None, rustc: str | None = None,
    linker: str | None = None, allow_mismatch: bool = False,
) -> ToolchainReport:
    """Check that `cc` (default: the pinned clang), `linker` and `rustc` can read `dist`'s objects.

    Raises RelinkError(TOOLCHAIN) naming the remedy when one cannot, unless `allow_mismatch`
    (build commands' `--skip-toolchain-check`), in which case the report still says `refuse`.
    """
    if not isinstance(dist, Distribution):
        dist = open_distribution(dist)
    return gate_objects(survey_distribution(dist), str(dist.source), cc, rustc, linker, allow_mismatch)
