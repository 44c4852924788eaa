"""Lowering: turning a bitcode distribution into a native one, once, with an LLVM at least as new as the producer.

`lower_tree` copies an extracted distribution (`<root>/python/…`) to a new root, compiling every LLVM
bitcode object (`clang -c -x ir -O2 in.o -o out.o`) and every bitcode member of a static library (the
archive is rebuilt in member order with the `llvm-ar` beside that clang) into native objects, in parallel.
Identical bitcode (libpython.a repeats the core objects) is compiled once. Other files are hard-linked
(copied across filesystems). PYTHON.json is rewritten with `build_info.object_file_format` set to the
native format, so the result opens like any distribution; `lowered.json` beside `python/` records the
provenance. `lower_distribution` does this into relink's cache, keyed by the distribution's identity and
the lowering LLVM, staged and renamed into place, and returns the cached root.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from relink.distribution import OBJECT_SUFFIXES, Distribution, distribution_identity, open_distribution
from relink.errors import ExitCode, RelinkError
from relink.support import (
    LiveStatus,
    announce,
    atomic_write_bytes,
    cache_root,
    entry_lock,
    publish_dir,
    run_tool,
    staging_dir,
)
from relink.toolchain.consumer import Consumer, detect_cc
from relink.toolchain.hints import install_hint
from relink.toolchain.objects import ARCHIVE, BITCODE, COFF, ELF, MACHO, iter_archive_members, llvm_major, sniff_file
from relink.toolchain.pin import pinned_toolchain

__all__ = ["LoweringResult", "lower_tree", "lowering_command", "lower_distribution"]

_PROVENANCE = "lowered.json"


@dataclass(frozen=True)
class LoweringResult:
    """What `lower_tree` did: counts, the lowering compiler, and the native format written to PYTHON.json."""

    root: str
    compiler: str
    llvm_version: str
    object_file_format: str
    bitcode_objects: int
    archives_rebuilt: int
    unique_compiles: int
    seconds: float

    def to_json(self) -> dict:
        return asdict(self)


def lowering_command(clang: str, source: Path, output: Path, target_triple: str) -> list[str]:
    """The compiler command that lowers one bitcode file. -fPIC keeps objects usable in shared libraries."""
    pic = [] if "windows" in target_triple else ["-fPIC"]
    return [clang, "-c", "-x", "ir", "-O2", *pic, "-Wno-override-module", str(source), "-o", str(output)]


@dataclass
class _Plan:
    """Work found by walking the tree: compiles keyed by content digest, archives to rebuild, files to link."""

    compiles: dict[str, tuple[Path, Path]]  # digest → (bitcode source, lowered output in the work dir)
    objects: list[tuple[str, Path]]  # (digest, destination) for bitcode objects
    archives: list[tuple[Path, list[tuple[str | None, Path]]]]  # (destination, [(digest or None, member)])
    others: list[tuple[Path, Path]]
    producer_major: int | None


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plan(source: Path, dest: Path, work: Path) -> _Plan:
    plan = _Plan({}, [], [], [], None)
    majors: set[int] = set()

    def add_compile(bitcode: Path, producer: str | None) -> str:
        digest = _digest(bitcode)
        if digest not in plan.compiles:
            plan.compiles[digest] = (bitcode, work / "lowered" / f"{digest}.o")
        if (major := llvm_major(producer)) is not None:
            majors.add(major)
        return digest

    for path in sorted(source.rglob("*")):
        target = dest / path.relative_to(source)
        if path.is_symlink() or path.is_dir():
            plan.others.append((path, target))
            continue
        info = sniff_file(path) if path.suffix in OBJECT_SUFFIXES else None
        if info is not None and info.format == BITCODE:
            plan.objects.append((add_compile(path, info.producer), target))
        elif info is not None and info.format == ARCHIVE and info.is_bitcode:
            members = _extract_members(path, work / "members" / str(len(plan.archives)))
            entries: list[tuple[str | None, Path]] = []
            for member_info, member_path in zip(info.members, members):
                if member_info.format == BITCODE:
                    entries.append((add_compile(member_path, member_info.producer), member_path))
                else:
                    entries.append((None, member_path))
            plan.archives.append((target, entries))
        else:
            plan.others.append((path, target))
    plan.producer_major = max(majors, default=None)
    return plan


def _extract_members(archive: Path, into: Path) -> list[Path]:
    """Write each member to `into/<index>/<name>` (indices keep duplicate names apart); in member order."""
    paths = []
    with archive.open("rb") as f:
        data = f.read()
    for index, member in enumerate(iter_archive_members(memoryview(data))):
        name = Path(member.name).name or "member.o"
        out = into / f"{index:05d}" / name
        out.parent.mkdir(parents=True)
        out.write_bytes(data[member.offset:member.offset + member.size])
        paths.append(out)
    return paths


def _compile(command: list[str], name: Path) -> None:
    announce(command)
    result = run_tool(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        raise RelinkError(f"lowering {name} failed: {lines[0]}", ExitCode.TOOLCHAIN)


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        target.mkdir(exist_ok=True)
    else:
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _llvm_ar(compiler: Consumer) -> str:
    beside = Path(os.path.realpath(compiler.path)).parent / "llvm-ar"
    if beside.is_file():
        return str(beside)
    fallback = shutil.which(pinned_toolchain().ar)
    if fallback is None:
        raise RelinkError(
            f"llvm-ar not found beside {compiler.path} nor as {pinned_toolchain().ar}: "
            f"{install_hint('llvm')}", ExitCode.TOOLCHAIN,
        )
    return fallback


def _native_format(target_triple: str) -> str:
    if "apple" in target_triple or "darwin" in target_triple:
        return MACHO
    if "windows" in target_triple:
        return COFF
    return ELF


def _rewrite_metadata(python_json: Path, object_file_format: str) -> None:
    """Replace PYTHON.json (possibly a hard link into the source) with a copy naming the native format."""
    document = json.loads(python_json.read_text())
    document["build_info"]["object_file_format"] = object_file_format
    python_json.unlink()
    python_json.write_text(json.dumps(document, indent=2) + "\n")


def _lowering_compiler(cc: str | None) -> Consumer:
    compiler = detect_cc(cc or pinned_toolchain().clang)
    if compiler.kind != "clang":
        raise RelinkError(
            f"lowering needs clang, not {compiler.describe()}: pass --cc {pinned_toolchain().clang}",
            ExitCode.TOOLCHAIN,
        )
    return compiler


def lower_tree(
    source_root: Path, dest_root: Path, target_triple: str, cc: str | None = None, jobs: int | None = None,
) -> LoweringResult:
    """Lower the distribution extracted at `source_root` (holding python/) into the empty `dest_root`."""
    started = time.monotonic()
    compiler = _lowering_compiler(cc)
    with tempfile.TemporaryDirectory(prefix="relink-lower-") as scratch:
        work = Path(scratch)
        (work / "lowered").mkdir()
        plan = _plan(source_root / "python", dest_root / "python", work)
        if plan.producer_major is not None and compiler.llvm_major < plan.producer_major:
            raise RelinkError(
                f"{compiler.describe()} cannot lower bitcode produced by LLVM {plan.producer_major}: "
                f"pass --cc clang-{plan.producer_major} or newer", ExitCode.TOOLCHAIN,
            )
        workers = jobs or os.cpu_count() or 1
        print(
            f"lowering {len(plan.compiles)} bitcode objects with {compiler.describe()} on {workers} jobs",
            file=sys.stderr,
        )
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                pool.submit(_compile, lowering_command(compiler.path, src, out, target_triple), src)
                for src, out in plan.compiles.values()
            ]
            try:
                with LiveStatus("lowering") as status:
                    for done, future in enumerate(futures, 1):
                        future.result()
                        status.update(f"[{done}/{len(futures)}]")
            except BaseException:
                for future in futures:  # stop queued compiles; running ones finish
                    future.cancel()
                raise
        for path, target in plan.others:
            _place(path, target)
        for digest, target in plan.objects:
            _place(plan.compiles[digest][1], target)
        llvm_ar = _llvm_ar(compiler) if plan.archives else ""
        for target, entries in plan.archives:
            for digest, member in entries:
                if digest:
                    shutil.copyfile(plan.compiles[digest][1], member)
            members = [member for _digest, member in entries]
            target.parent.mkdir(parents=True, exist_ok=True)
            ar_format = "darwin" if _native_format(target_triple) == MACHO else "gnu"
            _compile([llvm_ar, "qcsD", f"--format={ar_format}", str(target), *map(str, members)], target)
    native = _native_format(target_triple)
    _rewrite_metadata(dest_root / "python" / "PYTHON.json", native)
    return LoweringResult(
        root=str(dest_root), compiler=compiler.describe(), llvm_version=compiler.llvm_version or "",
        object_file_format=native, bitcode_objects=len(plan.objects) + sum(
            1 for _target, entries in plan.archives for digest, _member in entries if digest
        ), archives_rebuilt=len(plan.archives), unique_compiles=len(plan.compiles),
        seconds=round(time.monotonic() - started, 2),
    )


def lower_distribution(
    dist: Distribution | str | os.PathLike[str], cc: str | None = None, jobs: int | None = None,
) -> Path:
    """The root (holding python/) of `dist` lowered to native objects, built once into relink's cache.

    The cache entry is `<cache>/lowered/<identity>-llvm<version>`: the same distribution lowered by the
    same LLVM is reused; a different LLVM gets its own entry.
    """
    if not isinstance(dist, Distribution):
        dist = open_distribution(dist)
    compiler = _lowering_compiler(cc)
    key = f"{distribution_identity(dist)[:32]}-llvm{compiler.llvm_version}"
    entry = cache_root() / "lowered" / key
    with entry_lock(entry):
        if (entry / _PROVENANCE).is_file():
            return entry
        source_root = dist.extract()
        with staging_dir(entry) as staged:
            result = lower_tree(source_root, staged, dist.metadata.target_triple, compiler.command, jobs)
            provenance = {"source": str(dist.source), "identity": key, **result.to_json(), "root": str(entry)}
            atomic_write_bytes(staged / _PROVENANCE, (json.dumps(provenance, indent=2) + "\n").encode())
            publish_dir(staged, entry)
    return entry
