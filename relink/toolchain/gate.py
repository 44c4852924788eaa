"""The toolchain gate: can these consumers read this distribution's objects? A verdict before any link.

LLVM bitcode is readable by the same or a newer LLVM major, never an older one, and not by GNU ld/gold
or gcc at all. MSVC link-time code generation (/GL) objects are readable by MSVC's link.exe only, so every
consumer relink knows is refused for them. Native objects are linked by a consumer that speaks their format
(GNU ld and ld.lld: ELF; ld64.lld: Mach-O; lld-link: COFF); clang and rustc link foreign formats only when
told the target, which is a warning, not an ok. Zero objects checked is never ok. `evaluate` turns an `ObjectSurvey` (what the bytes are, relink.toolchain.survey) and the detected
`Consumer`s (relink.toolchain.consumer) into a `ToolchainReport`: per consumer ok (same major, or native objects),
warn (newer major: readable, but not what PBS tested), or refuse (older major, or no LLVM), with one
remedy line. `run_gate` does it all for a distribution and raises RelinkError(TOOLCHAIN) on refusal
unless the caller passes `allow_mismatch` (the `--skip-toolchain-check` of build commands).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from relink.distribution import Distribution, open_distribution
from relink.errors import ExitCode, RelinkError
from relink.toolchain.consumer import Consumer, detect_cc, detect_linker, detect_rustc
from relink.toolchain.hints import install_hint
from relink.toolchain.pin import pinned_toolchain
from relink.toolchain.objects import UNKNOWN
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


# The object format each linker flavour reads; compiler drivers pick a linker by target.
_HOST_FORMAT = {"linux": "elf", "darwin": "mach-o", "win32": "coff"}.get(sys.platform, "elf")


def _linker_format(consumer: Consumer) -> str | None:
    """The one object format a linker reads (None: a driver that can target several)."""
    name = os.path.basename(consumer.command).lower()
    if consumer.kind in ("gnu-ld", "gold", "gcc"):
        return "elf"
    if consumer.kind == "lld":
        if name.startswith("lld-link"):
            return "coff"
        if name.startswith("ld64.lld"):
            return "mach-o"
        return "elf" if name.startswith(("ld.lld", "ld")) else None
    if consumer.kind == "apple-clang":
        return "mach-o"
    return None


def _judge_native(consumer: Consumer, survey: ObjectSurvey) -> ConsumerVerdict:
    who = consumer.describe()
    fmt = survey.effective_format
    reads = _linker_format(consumer)
    if reads is not None and reads != fmt:
        return ConsumerVerdict(consumer, REFUSE, f"{who} links {reads} objects only, not these native {fmt} objects")
    if reads is None and fmt != _HOST_FORMAT:
        return ConsumerVerdict(
            consumer, WARN, f"{who}: native {fmt} objects link only when cross-linking for the distribution's "
            "target (--target and that target's linker and system libraries)",
        )
    return ConsumerVerdict(consumer, OK, f"{who}: native {fmt} objects, which it links")


def _judge(consumer: Consumer, survey: ObjectSurvey) -> ConsumerVerdict:
    who = consumer.describe()
    if survey.checked == 0:
        return ConsumerVerdict(consumer, REFUSE, f"{who}: no objects were checked, so nothing says it can link them")
    if survey.effective_format == UNKNOWN:
        return ConsumerVerdict(
            consumer, REFUSE, f"{who}: none of the {survey.checked} checked files is an object or library relink "
            "recognises, so nothing says it can link them",
        )
    if survey.needs_msvc:
        count = len(survey.ltcg)
        return ConsumerVerdict(
            consumer, REFUSE, f"{who} cannot link MSVC link-time code generation (/GL) objects ({count} files, "
            f"e.g. {survey.ltcg[0]}): only MSVC's link.exe reads them ('is not a native COFF file')",
        )
    if not survey.needs_llvm:
        return _judge_native(consumer, survey)
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
    if survey.checked == 0:
        return "run the check on a distribution whose PYTHON.json lists its objects (the full archive or its folder)"
    if survey.effective_format == UNKNOWN:
        return "check that the distribution is a PBS full archive with object files (see the disagreements above)"
    if survey.needs_msvc:
        return (
            "link with MSVC's link.exe from the same or a newer Visual Studio than built the archive (on Windows), "
            "or use a PBS flavor built without /GL (e.g. 'relink fetch X.Y --target TRIPLE --flavor noopt')"
        )
    if not survey.needs_llvm:
        return f"use a linker for {survey.effective_format} objects (or a compiler driver targeting the distribution's triple)"
    major = survey.producer_major
    pinned = pinned_toolchain()
    lower = f"or run 'relink lower {distribution}' to turn the bitcode into native objects any linker can use"
    if major is not None and major > pinned.major:
        return f"install clang-{major} and lld-{major} (newer than relink's pinned LLVM {pinned.major}) and pass --cc clang-{major}, {lower} --cc clang-{major}"
    return (
        f"use the pinned toolchain ({pinned.clang} and {pinned.lld}, LLVM {pinned.major}: {install_hint('llvm')}; "
        f"pass --cc {pinned.clang}), {lower}"
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
    entries (headers only; the archive is extracted once either way). Listed files the distribution
    lacks are recorded as missing. A bare PYTHON.json is refused (INVALID_INPUT): it has no objects."""
    build_info = dist.metadata.build_info
    declared = build_info.object_file_format
    if dist.is_metadata_only:
        raise RelinkError(
            f"{dist.source}: a bare PYTHON.json has no objects to check (it only declares "
            f"'{declared.raw}'): run the toolchain check on the full archive or its extracted folder",
            ExitCode.INVALID_INPUT,
        )
    listed = build_info.listed_paths()
    missing = set(dist.extract_present(listed))
    present = [rel for rel in listed if rel not in missing]
    return survey_objects(declared, ((rel, dist.path(rel)) for rel in present), sorted(missing))


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
