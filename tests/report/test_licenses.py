"""License reports: AND-combined SPDX ids, components per license file, copyleft, missing texts, SPDX 2.3
documents checked by a real validator (spdx-tools), byte-identical output; on samples and the real archive."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from relink.cli import main
from relink.distribution.opener import open_distribution
from relink.errors import ExitCode, RelinkError
from relink.plan.selection import make_plan
from relink.report.licenses import (
    and_expression,
    copyleft_extensions,
    find_copyleft,
    is_copyleft,
    license_report,
    license_report_from_plan,
    render_json,
    render_text,
    write_license_report,
)
from relink.report.spdx import render_spdx_json, render_spdx_tag_value, spdx_license_id

LINUX_SAMPLE = "PYTHON.3.12.7-x86_64-unknown-linux-gnu-pgo+lto.reconstructed.json"
WINDOWS_SAMPLE = "PYTHON.3.11.9-x86_64-pc-windows-msvc-pgo.real.json"


def validate_spdx(path: Path) -> None:
    messages = validate_full_spdx_document(parse_file(str(path)))
    assert [m.validation_message for m in messages] == []


def write_spdx(report, tmp_path: Path, stem: str) -> tuple[Path, Path]:
    tag_value = tmp_path / f"{stem}.spdx"
    tag_value.write_text(render_spdx_tag_value(report), encoding="utf-8")
    as_json = tmp_path / f"{stem}.spdx.json"
    as_json.write_text(render_spdx_json(report), encoding="utf-8")
    return tag_value, as_json


@pytest.fixture
def modified_sample(samples_dir: Path, tmp_path: Path) -> Path:
    """The Linux sample with a fake SPDX list: readline under GPL, _decimal under an unlisted id, and a
    folder holding only some of the license texts PYTHON.json names."""
    data = json.loads((samples_dir / LINUX_SAMPLE).read_text())
    extensions = data["build_info"]["extensions"]
    extensions["readline"][0]["licenses"] = ["GPL-3.0-or-later", "X11"]
    extensions["_decimal"][0]["licenses"] = ["Custom-Mpdecimal-1"]
    extensions["_uuid"][0]["licenses"] = ["LGPL-2.1+"]
    root = tmp_path / "dist"
    (root / "python" / "licenses").mkdir(parents=True)
    (root / "python" / "PYTHON.json").write_text(json.dumps(data))
    (root / "python" / "licenses" / "LICENSE.cpython.txt").write_text("PSF LICENSE AGREEMENT (sample text)\n")
    (root / "python" / "licenses" / "LICENSE.mpdecimal.txt").write_text("mpdecimal terms (sample text)\n")
    return root


def test_extension_licenses_are_combined_with_and_never_or(samples_dir: Path) -> None:
    report = license_report(open_distribution(samples_dir / LINUX_SAMPLE), ["_ssl", "_sqlite3", "zlib"])
    ssl = next(e for e in report.extension_licenses if e.name == "_ssl")
    assert ssl.spdx_expression == "Apache-2.0 AND OpenSSL"
    assert report.spdx_expression == "Apache-2.0 AND CNRI-Python AND OpenSSL AND Python-2.0 AND Zlib"
    assert " OR " not in render_text(report)
    assert and_expression(["MIT", "Apache-2.0", "MIT"]) == "Apache-2.0 AND MIT"
    assert and_expression(["MIT", "GPL-2.0-only OR MIT"]) == "(GPL-2.0-only OR MIT) AND MIT"
    assert and_expression([]) is None


def test_components_follow_license_files_and_libraries(samples_dir: Path) -> None:
    report = license_report(open_distribution(samples_dir / LINUX_SAMPLE), ["_sqlite3", "zlib", "readline", "_ssl"])
    keys = [c.key for c in report.components]
    assert keys[0] == "cpython" and keys[1:] == sorted(keys[1:])
    cpython = report.component("cpython")
    assert cpython.spdx_ids == ("CNRI-Python", "Python-2.0") and cpython.pulled_in_by == ("core",)
    sqlite = report.component("sqlite")
    assert sqlite.public_domain and sqlite.spdx_ids == () and sqlite.libraries == ("build/lib/libsqlite3.a",)
    # readline's two files are told apart: ncurses is pinned by _curses (one file), libedit gets the rest.
    assert report.component("libedit").spdx_ids == ("BSD-3-Clause",)
    assert report.component("libedit").libraries == ("build/lib/libedit.a",)
    assert report.component("ncurses").spdx_ids == ("X11",)
    assert report.component("ncurses").pulled_in_by == ("readline",)
    # Two OpenSSL license files for the same libraries: ids only known jointly, said so.
    openssl = report.component("openssl-3")
    assert openssl.joint_with == ("openssl-1.1",)
    assert set(openssl.libraries) == {"build/lib/libcrypto.a", "build/lib/libssl.a"}
    assert any("openssl-3" in note and "together with openssl-1.1" in note for note in report.notes)


def test_windows_dlls_are_components_too(samples_dir: Path) -> None:
    report = license_report(open_distribution(samples_dir / WINDOWS_SAMPLE), ["_ctypes", "_lzma"])
    assert report.component("libffi").libraries == ("install/DLLs/libffi-8.dll",)
    assert report.component("liblzma").public_domain


@pytest.mark.parametrize(
    ("spdx", "copyleft"),
    [
        ("GPL-2.0-only", True), ("GPL-2.0+", True), ("LGPL-2.1-or-later", True), ("AGPL-3.0-only", True),
        ("MPL-2.0", True), ("EPL-2.0", True), ("CDDL-1.0", True), ("EUPL-1.2", True), ("OSL-3.0", True),
        ("Sleepycat", True), ("GPL-3.0-or-later WITH GCC-exception-3.1", True), ("lgpl-3.0", True),
        ("MIT", False), ("Apache-2.0", False), ("OpenSSL", False), ("CNRI-Python-GPL-Compatible", False),
        ("Zlib", False), ("BSD-3-Clause", False), ("GPLish", False),
    ],
)
def test_copyleft_detection(spdx: str, copyleft: bool) -> None:
    assert is_copyleft(spdx) is copyleft


def test_copyleft_findings_name_extension_component_and_ids(modified_sample: Path) -> None:
    dist = open_distribution(modified_sample)
    report = license_report(dist, ["readline", "_uuid", "_dbm", "zlib"])
    findings = {(f.extension, f.component, f.ids) for f in find_copyleft(report)}
    assert ("readline", "libedit", ("GPL-3.0-or-later",)) in findings
    assert ("_uuid", "libuuid", ("LGPL-2.1+",)) in findings
    assert ("_dbm", "bdb", ("Sleepycat",)) in findings
    assert not any(f.extension == "zlib" for f in find_copyleft(report))
    # What the planner's --no-copyleft needs, before any report exists: ANY copyleft id counts (AND).
    found = copyleft_extensions(dist.metadata)
    assert found["readline"] == ("GPL-3.0-or-later",)
    assert set(found) == {"_dbm", "_uuid", "readline"}
    assert dict(copyleft_extensions(dist.metadata, ["zlib", "_dbm"])) == {"_dbm": ("Sleepycat",)}


def test_missing_texts_are_notes_not_crashes(modified_sample: Path) -> None:
    report = license_report(open_distribution(modified_sample), ["_decimal", "zlib"])
    assert set(report.texts) == {"licenses/LICENSE.cpython.txt", "licenses/LICENSE.mpdecimal.txt"}
    missing = [n for n in report.notes if "missing from the distribution" in n]
    assert missing and "licenses/LICENSE.zlib.txt" in missing[0]
    text = render_text(report)
    assert "[text missing from the distribution]" in text
    assert "mpdecimal terms (sample text)" in text


def test_metadata_only_distribution_notes_that_texts_are_unavailable(samples_dir: Path) -> None:
    report = license_report(open_distribution(samples_dir / LINUX_SAMPLE), ["zlib"])
    assert report.texts == {}
    assert report.notes == ("2 license texts not read: a bare PYTHON.json has no files",)


def test_unknown_extension_is_a_usage_error(samples_dir: Path) -> None:
    with pytest.raises(RelinkError) as caught:
        license_report(open_distribution(samples_dir / LINUX_SAMPLE), ["zlibb"])
    assert caught.value.code == ExitCode.USAGE


def test_spdx_ids_map_to_the_license_list_or_license_refs() -> None:
    assert spdx_license_id("zlib") == "Zlib"
    assert spdx_license_id("GPL-2.0+") == "GPL-2.0-or-later"
    assert spdx_license_id("GPL-2.0") == "GPL-2.0-only"
    assert spdx_license_id("Custom-Mpdecimal-1") is None


def test_spdx_with_license_refs_validates(modified_sample: Path, tmp_path: Path) -> None:
    report = license_report(open_distribution(modified_sample), ["readline", "_decimal", "_sqlite3", "_uuid"])
    tag_value, as_json = write_spdx(report, tmp_path, "refs")
    validate_spdx(tag_value)
    validate_spdx(as_json)
    document = json.loads(as_json.read_text())
    refs = {info["licenseId"]: info for info in document["hasExtractedLicensingInfos"]}
    assert refs["LicenseRef-Custom-Mpdecimal-1"]["extractedText"] == "mpdecimal terms (sample text)"
    assert "LicenseRef-PublicDomain-sqlite" in refs
    uuid = next(p for p in document["packages"] if p["name"] == "libuuid")
    assert uuid["licenseDeclared"] == "LGPL-2.1-or-later"


def test_output_is_byte_identical_and_dated_from_source_date_epoch(
    modified_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    dist = open_distribution(modified_sample)
    first = license_report(dist, ["zlib", "_decimal"])
    again = license_report(open_distribution(modified_sample), ["_decimal", "zlib"])
    for render in (render_text, render_json, render_spdx_tag_value, render_spdx_json):
        assert render(first) == render(again)
    assert "Created: 1970-01-01T00:00:00Z" in render_spdx_tag_value(first)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert "Created: 2023-11-14T22:13:20Z" in render_spdx_tag_value(first)
    namespace = json.loads(render_spdx_json(first))["documentNamespace"]
    other = json.loads(render_spdx_json(license_report(dist, ["zlib"])))["documentNamespace"]
    assert namespace != other and namespace.startswith("urn:relink:spdx:")


@pytest.mark.slow
def test_real_archive_report_texts_and_licenses_file(elf_archive: Path, tmp_path: Path) -> None:
    dist = open_distribution(elf_archive)
    report = license_report_from_plan(dist, make_plan(dist, "minimal,+zlib,+_sqlite3"))
    assert [c.key for c in report.components] == ["cpython", "sqlite", "zlib"]
    assert report.component("zlib").pulled_in_by == ("_sqlite3", "zlib")
    assert report.component("sqlite").public_domain
    assert report.notes == ()
    assert "Jean-loup Gailly" in report.texts["licenses/LICENSE.zlib.txt"]
    written = write_license_report(report, tmp_path / "out")
    assert written == tmp_path / "out" / "LICENSES.txt"
    text = written.read_text(encoding="utf-8")
    assert text.index("Components:") < text.index("PYTHON SOFTWARE FOUNDATION LICENSE") < text.index("Jean-loup")


@pytest.mark.slow
def test_real_archive_every_extension_spdx_validates(elf_archive: Path, tmp_path: Path) -> None:
    dist = open_distribution(elf_archive)
    report = license_report(dist, list(dist.metadata.build_info.extensions))
    assert {c.key for c in report.components} >= {"openssl-3", "libffi", "bzip2", "liblzma", "ncurses", "expat"}
    assert not find_copyleft(report)
    tag_value, as_json = write_spdx(report, tmp_path, "all")
    validate_spdx(tag_value)
    validate_spdx(as_json)


@pytest.mark.slow
def test_cli_formats_and_output_file(elf_archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "licenses.spdx.json"
    assert main(["licenses", str(elf_archive), "--extensions", "minimal,+zlib", "--format", "spdx-json",
                 "-o", str(out)]) == 0
    validate_spdx(out)
    assert "spdx-json license report for 2 components" in capsys.readouterr().out
    assert main(["licenses", str(elf_archive), "--extensions", "minimal,+zlib", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["spdx_expression"] == "CNRI-Python AND Python-2.0 AND Zlib"
    assert main(["licenses", str(elf_archive), "--extensions", "minimal,+nonesuch"]) == ExitCode.USAGE


def test_cli_on_a_folder_copy(modified_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(modified_sample, copy)
    assert main(["licenses", str(copy), "--extensions", "none,+_decimal,+zlib", "--format", "text"]) == 0
    captured = capsys.readouterr()
    assert "mpdecimal: Custom-Mpdecimal-1" in captured.out
    assert "relink: note: licenses/LICENSE.zlib.txt: named by PYTHON.json but missing" in captured.err
