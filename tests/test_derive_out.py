"""``derive --out DIR`` touches only what it wrote: a manifest in the folder lists it.

A new or empty folder is filled; a folder derive made before (it holds the manifest) gets the
files the docs no longer derive removed, and only those; any other folder, or a file the manifest
does not list, is refused before anything is written or deleted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance import contract
from conformance import derive as derivation
from conformance.errors import UsageError
from tests.helpers import COMMITTED, DOC_DIRS, METADATA, graph_conformance

MANIFEST = ".graph-conformance-manifest"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` and its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def list_in_manifest(out: Path, *extra: str) -> None:
    """Pretend an earlier derivation also wrote ``extra``."""
    manifest = out / MANIFEST
    listed = json.loads(manifest.read_text(encoding="utf-8"))
    listed["files"] = sorted(listed["files"] + list(extra))
    manifest.write_text(json.dumps(listed), encoding="utf-8")


def test_the_manifest_is_named_so_no_reader_of_json_documents_sees_it() -> None:
    assert derivation.MANIFEST == MANIFEST and not MANIFEST.endswith(".json")


@pytest.mark.parametrize("make", [False, True], ids=["new-folder", "empty-folder"])
def test_a_new_or_empty_folder_gets_the_files_and_a_sorted_manifest(
    tmp_path: Path, derived: derivation.Derived, make: bool
) -> None:
    out = tmp_path / "nested" / "out"
    if make:
        out.mkdir(parents=True)
        (out / "empty-subfolder").mkdir()  # folders alone hold nothing foreign
    written = derivation.write(derived, out)
    assert sorted(p.relative_to(out).as_posix() for p in written) == sorted(derived.files)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["files"] == sorted(derived.files)
    assert set(snapshot(out)) == {*derived.files, MANIFEST}
    # readers of the contract never see the manifest
    assert set(contract.read_documents(out)) == set(derived.files)


def test_writing_twice_gives_identical_bytes_and_matches_the_committed_folder(
    tmp_path: Path, derived: derivation.Derived
) -> None:
    out = tmp_path / "out"
    derivation.write(derived, out)
    first = snapshot(out)
    derivation.write(derived, out)
    assert snapshot(out) == first
    assert first == snapshot(COMMITTED)  # the committed folder carries its manifest too


def test_a_stale_file_listed_in_the_manifest_is_removed_and_nothing_else(
    tmp_path: Path, derived: derivation.Derived
) -> None:
    out = tmp_path / "out"
    derivation.write(derived, out)
    list_in_manifest(out, "v1.0/oldType.json", "gone/deeper/old.json", "never-made.json")
    (out / "v1.0" / "oldType.json").write_text("{}")
    (out / "gone" / "deeper").mkdir(parents=True)
    (out / "gone" / "deeper" / "old.json").write_text("{}")
    (out / "v1.0" / "qrCode.json").write_text("edited by hand")  # listed: derive's own file, rewritten
    derivation.write(derived, out)
    assert snapshot(out) == snapshot(COMMITTED)
    assert not (out / "gone").exists()  # the folders the stale files emptied go too
    assert json.loads((out / MANIFEST).read_text(encoding="utf-8"))["files"] == sorted(derived.files)


def test_a_file_the_manifest_does_not_list_is_refused_and_nothing_is_touched(
    tmp_path: Path, derived: derivation.Derived
) -> None:
    out = tmp_path / "out"
    derivation.write(derived, out)
    list_in_manifest(out, "v1.0/oldType.json")
    (out / "v1.0" / "oldType.json").write_text("{}")  # stale, listed: would be removed
    (out / "v1.0" / "qrCode.json").write_text("edited by hand")  # listed: would be rewritten
    (out / "notes.txt").write_text("mine")
    (out / "v1.0" / "mine.json").write_text('{"mine": true}')
    before = snapshot(out)
    with pytest.raises(UsageError) as refused:
        derivation.write(derived, out)
    assert str(refused.value) == (
        f"derive --out {out}: the folder holds files graph-conformance did not write: notes.txt, v1.0/mine.json; "
        "move them out, or give an empty or new folder"
    )
    assert snapshot(out) == before
    # the same folder without the foreign files is written as usual
    (out / "notes.txt").unlink()
    (out / "v1.0" / "mine.json").unlink()
    derivation.write(derived, out)
    assert snapshot(out) == snapshot(COMMITTED)


@pytest.mark.parametrize(
    "manifest",
    [
        '{"files": ["../outside.json"]}',
        '{"files": ["/tmp/outside.json"]}',
        '{"files": ["conflicts.json", 3]}',
        '{"files": "conflicts.json"}',
        "not json",
        "[]",
    ],
    ids=["parent", "absolute", "not-a-string", "not-a-list", "not-json", "not-an-object"],
)
def test_a_manifest_derive_did_not_write_is_refused(tmp_path: Path, derived: derivation.Derived, manifest: str) -> None:
    out = tmp_path / "out"
    derivation.write(derived, out)
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    (out / MANIFEST).write_text(manifest)
    before = snapshot(out)
    expected = f"derive --out {out}: {MANIFEST} is not a manifest graph-conformance wrote; give an empty or new folder"
    with pytest.raises(UsageError, match=f"^{re.escape(expected)}$"):
        derivation.write(derived, out)
    assert snapshot(out) == before and outside.exists()


def test_out_must_be_a_folder(tmp_path: Path, derived: derivation.Derived) -> None:
    out = tmp_path / "package.json"
    out.write_text("{}")
    with pytest.raises(UsageError, match=r"not a folder$"):
        derivation.write(derived, out)
    assert out.read_text() == "{}"


def test_the_command_refuses_a_project_folder_with_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    project = tmp_path / "web"
    (project / "src").mkdir(parents=True)
    (project / "package.json").write_text('{"name": "web"}')
    (project / "tsconfig.json").write_text('{"compilerOptions": {}}')
    (project / "src" / "index.ts").write_text("export {};\n")
    before = snapshot(project)
    docs = [a for d in DOC_DIRS for a in ("--docs", str(d))] + [a for m in METADATA for a in ("--metadata", str(m))]
    result = graph_conformance("derive", *docs, "--out", project)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"graph-conformance: error: derive --out {project}: the folder holds files graph-conformance did not write: "
        "package.json, src/index.ts, tsconfig.json; give an empty or new folder"
    ]
    assert snapshot(project) == before and not (project / MANIFEST).exists()
