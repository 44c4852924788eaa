"""What a distribution's objects really are, compared with what its metadata declares.

`survey_objects` sniffs a set of object files and static libraries (relink.toolchain.objects) and sums them up as
an `ObjectSurvey`: counts per format, bitcode producers seen, the effective format (bitcode if anything
needs an LLVM to link, else the native kind) and the producing LLVM, plus grouped disagreements with
`build_info.object_file_format`. PBS mislabels GCC fat-LTO ELF objects as `llvm-bitcode` and writes
"18.0.8" for 18.1.8, so only the bytes and the major version are trusted. PBS's Windows objects are MSVC
`/GL` objects although PYTHON.json says `coff`: they make the effective format `coff-ltcg`. Listed files
the distribution lacks are recorded as missing, not read. Native objects inside an LTO
distribution are normal where PBS puts them: `Python/asm_trampoline.o` (assembly) and `build/lib/*.a`
(third-party libraries); any archive mixing bitcode and native members is normal too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from relink.distribution import ObjectFileFormat
from relink.toolchain.objects import (
    ARCHIVE,
    BITCODE,
    COFF,
    COFF_IMPORT,
    COFF_LTCG,
    UNKNOWN,
    ObjectInfo,
    llvm_major,
    sniff_file,
)

__all__ = ["ObjectSurvey", "survey_objects", "describe_format", "EXPECTED_NATIVE_IN_LTO"]

# Relative paths (under python/) of objects that are native even in an LTO distribution.
EXPECTED_NATIVE_IN_LTO = ("build/Python/asm_trampoline.o", "build/lib/")


@dataclass
class ObjectSurvey:
    """The result of sniffing a distribution's objects; JSON-serialisable via `to_json`."""

    declared: str
    checked: int = 0
    formats: dict[str, int] = field(default_factory=dict)
    producers: dict[str, int] = field(default_factory=dict)
    effective_format: str = UNKNOWN
    producer_version: str | None = None
    disagreements: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    ltcg: list[str] = field(default_factory=list)

    @property
    def needs_llvm(self) -> bool:
        return self.effective_format == BITCODE

    @property
    def needs_msvc(self) -> bool:
        """Some objects are MSVC link-time code generation (/GL) objects: only MSVC's link.exe reads them."""
        return bool(self.ltcg)

    @property
    def producer_major(self) -> int | None:
        return llvm_major(self.producer_version)

    def to_json(self) -> dict:
        return {
            "declared": self.declared,
            "checked": self.checked,
            "formats": dict(sorted(self.formats.items())),
            "producers": dict(sorted(self.producers.items())),
            "effective_format": self.effective_format,
            "producer_version": self.producer_version,
            "disagreements": list(self.disagreements),
            "missing": list(self.missing),
            "ltcg_files": len(self.ltcg),
        }


def describe_format(info: ObjectInfo) -> str:
    """A short label: llvm-bitcode, elf, elf+gcc-fat-lto, elf+llvm-bitcode, ar[elf,llvm-bitcode], …"""
    if info.format == ARCHIVE:
        inner = sorted({describe_format(m) for m in info.members})
        return f"ar[{','.join(inner)}]"
    if info.gcc_lto:
        return f"{info.format}+gcc-{info.gcc_lto}-lto"
    if info.embedded_bitcode:
        return f"{info.format}+llvm-bitcode"
    return info.format


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


class _Groups:
    """Disagreements grouped by kind: one line per kind with a count and the first example."""

    def __init__(self) -> None:
        self._examples: dict[str, list[str]] = {}

    def add(self, kind: str, rel: str) -> None:
        self._examples.setdefault(kind, []).append(rel)

    def lines(self) -> list[str]:
        out = []
        for kind, rels in self._examples.items():
            where = rels[0] if len(rels) == 1 else f"{len(rels)} objects, e.g. {rels[0]}"
            out.append(f"{kind} ({where})")
        return out


def survey_objects(
    declared: ObjectFileFormat, objects: Iterable[tuple[str, Path]], missing: Iterable[str] = (),
) -> ObjectSurvey:
    """Sniff every (relative path, real file) pair and compare with `declared`; `missing` are listed
    files the distribution lacks (recorded, not read).

    Raises RelinkError (INVALID_INPUT) for an unreadable or corrupt file.
    """
    survey = ObjectSurvey(declared=declared.raw, missing=list(missing))
    formats: Counter[str] = Counter()
    producers: Counter[str] = Counter()
    native_kinds: Counter[str] = Counter()
    groups = _Groups()
    any_bitcode = False
    for rel, path in objects:
        info = sniff_file(path)
        survey.checked += 1
        formats[describe_format(info)] += 1
        for member in info.bitcode_members():
            producers[member.producer or "unknown"] += 1
        leaves = info.members if info.format == ARCHIVE else (info,)
        if any(m.format == COFF_LTCG for m in leaves):
            survey.ltcg.append(rel)
        native_kinds.update(
            COFF if m.format == COFF_IMPORT else m.format
            for m in leaves if m.format not in (BITCODE, UNKNOWN, COFF_LTCG)
        )
        any_bitcode |= info.is_bitcode
        _compare(declared, rel, info, groups)
    survey.formats = dict(formats)
    survey.producers = dict(producers)
    versions = [p.removeprefix("LLVM") for p in producers if llvm_major(p) is not None]
    if any_bitcode:
        survey.effective_format = BITCODE
        survey.producer_version = max(versions, key=_version_key) if versions else declared.llvm_version
        if len({llvm_major(v) for v in versions}) > 1:
            groups.add(f"bitcode from several LLVM majors: {', '.join(sorted(producers))}", "all objects")
    elif survey.ltcg:
        survey.effective_format = COFF_LTCG
    elif native_kinds:
        survey.effective_format = native_kinds.most_common(1)[0][0]
    elif survey.checked == 0:  # nothing to look at (metadata only): trust the declaration
        survey.effective_format = declared.kind
        survey.producer_version = declared.llvm_version
    if declared.is_bitcode and survey.checked and not any_bitcode:
        groups.add(f"metadata says {declared.raw} but no checked object is LLVM bitcode", "all objects")
    for rel in survey.missing:
        groups.add("listed in PYTHON.json but missing from the distribution", rel)
    survey.disagreements = groups.lines()
    return survey


def _compare(declared: ObjectFileFormat, rel: str, info: ObjectInfo, groups: _Groups) -> None:
    if info.format == UNKNOWN:
        groups.add("not an object file or static library", rel)
        return
    if info.format == ARCHIVE:
        unknown = [m for m in info.members if m.format == UNKNOWN]
        if unknown:
            groups.add("archive member is not an object file", f"{rel}: {unknown[0].name}")
        if declared.is_bitcode or not info.is_bitcode:
            return  # mixed or native archives are normal in bitcode distributions
        groups.add(f"metadata says {declared.raw} but archive has LLVM bitcode members", rel)
        return
    if declared.is_bitcode:
        if info.format == BITCODE:
            seen = llvm_major(info.producer)
            if seen is not None and declared.llvm_major is not None and seen != declared.llvm_major:
                groups.add(f"metadata says {declared.raw} but bitcode was produced by {info.producer}", rel)
        elif info.gcc_lto:
            groups.add(
                f"metadata says {declared.raw} but objects are GCC {info.gcc_lto}-LTO {info.format} "
                "(PBS mislabels GCC-built targets)", rel,
            )
        elif not rel.startswith(EXPECTED_NATIVE_IN_LTO):
            groups.add(f"metadata says {declared.raw} but object is native {info.format}", rel)
        return
    if info.format == BITCODE:
        groups.add(f"metadata says {declared.raw} but object is LLVM bitcode ({info.producer})", rel)
    elif info.format == COFF_LTCG:
        groups.add(f"metadata says {declared.raw} but object is an MSVC link-time code generation (/GL) object", rel)
    elif info.format == COFF_IMPORT and declared.kind == COFF:
        return
    elif info.format != declared.kind:
        groups.add(f"metadata says {declared.raw} but object is {info.format}", rel)
    elif info.gcc_lto == "slim":
        groups.add("object is GCC slim-LTO (GIMPLE only): only gcc with its LTO plugin can link it", rel)
