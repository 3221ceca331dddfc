"""The CSDL metadata as a second source: each merge rule with both sources' citations, the conflicts
it records, and hostile or ambiguous ``--metadata`` input refused with exit 2 and one line."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from conformance import derive as derivation
from conformance.schemas import SchemaSet
from tests.helpers import DOC_DIRS, METADATA, graph_conformance

BETA, V1 = "graph-metadata/beta.xml", "graph-metadata/v1.0.xml"


def cite(page: str, line: int) -> dict[str, Any]:
    return {"page": page, "line": line}


def doc_vs_metadata(committed: SchemaSet, version: str, topic: str, subject: str) -> dict[str, Any]:
    """The one doc-vs-metadata conflict on ``subject``; its alternatives keyed by source."""
    found = [
        c
        for c in committed.documents["conflicts.json"]["conflicts"]
        if c["kind"] == "doc-vs-metadata" and (c["version"], c["topic"], c["subject"]) == (version, topic, subject)
    ]
    assert len(found) == 1, (version, topic, subject)
    return {a["source"]: a for a in found[0]["alternatives"]}


def test_every_disagreement_names_a_page_reading_and_a_metadata_reading(committed: SchemaSet) -> None:
    conflicts = [c for c in committed.documents["conflicts.json"]["conflicts"] if c["kind"] == "doc-vs-metadata"]
    assert conflicts
    for conflict in conflicts:
        pages, metadata = conflict["alternatives"]
        assert (pages["source"], metadata["source"]) == ("pages", "metadata"), conflict
        assert pages["reading"] and metadata["reading"] and conflict["topic"]
        assert pages["sources"] and all(not s["page"].startswith("graph-metadata/") for s in pages["sources"])
        assert metadata["sources"] and all(s["page"] in (BETA, V1) for s in metadata["sources"])
        assert all(s["page"] == {"beta": BETA, "v1.0": V1}[conflict["version"]] for s in metadata["sources"])


@pytest.mark.parametrize(("version", "metadata_line"), [("beta", 207), ("v1.0", 91)])
def test_a_member_the_pages_let_be_null_stays_nullable_and_is_a_conflict(
    committed: SchemaSet, version: str, metadata_line: int
) -> None:
    code = committed.schema(version, "qrPin")["properties"]["code"]
    assert code["type"] == ["string", "null"]
    meta = {"beta": BETA, "v1.0": V1}[version]
    assert cite(meta, metadata_line) in code["x-provenance"]
    readings = doc_vs_metadata(committed, version, "nullability", "qrPin.code")
    assert readings["metadata"]["reading"] == 'Nullable="false"'
    assert readings["metadata"]["sources"] == [cite(meta, metadata_line)]
    assert readings["pages"]["reading"] == "may be null"
    if version == "v1.0":  # the resource table and the GET example both say it reads null
        assert cite("graph-docs/v1.0/resources/qrpin.md", 35) in readings["pages"]["sources"]
        assert cite("graph-docs/v1.0/api/qrcodepinauthenticationmethod-get.md", 88) in readings["pages"]["sources"]


def test_never_null_members_are_required_in_answers_citing_the_metadata(committed: SchemaSet) -> None:
    target = committed.schema("v1.0", "excludeTarget")
    assert target["required"] == ["id", "targetType"]
    assert target["x-required-provenance"] == {"id": [cite(V1, 23)], "targetType": [cite(V1, 24)]}
    assert committed.schema("beta", "qrCode")["x-required-provenance"] == {"id": [cite(BETA, 160)]}


def test_an_answer_that_omits_a_never_null_member_keeps_it_optional_and_is_a_conflict(committed: SchemaSet) -> None:
    assert "id" not in committed.schema("beta", "qrPin")["required"]
    readings = doc_vs_metadata(committed, "beta", "presence", "qrPin.id")
    assert cite("graph-docs/beta/api/qrpin-update.md", 140) in readings["pages"]["sources"]
    assert readings["metadata"]["sources"] == [cite(BETA, 160)]


def test_the_request_body_and_error_schemas_are_left_alone(committed: SchemaSet) -> None:
    for version in ("beta", "v1.0"):
        assert committed.schema(version, "graphError")["required"] == ["error"]


def test_a_property_only_the_metadata_gives_is_typed_and_cites_it(committed: SchemaSet) -> None:
    created = committed.schema("beta", "qrCodePinAuthenticationMethod")["properties"]["createdDateTime"]
    assert created["type"] == ["string", "null"] and created["format"] == "date-time"
    assert created["x-provenance"] == [cite(BETA, 99)]
    assert created["x-inherited-from"] == "microsoft.graph.authenticationMethod"
    readings = doc_vs_metadata(
        committed, "beta", "property-missing-from-pages", "qrCodePinAuthenticationMethod.createdDateTime"
    )
    assert cite("graph-docs-base/beta/resources/authenticationmethod.md", 1) in readings["pages"]["sources"]
    assert readings["metadata"]["sources"] == [cite(BETA, 99)]


def test_the_metadata_base_gives_beta_qrpin_its_typed_key(committed: SchemaSet) -> None:
    pin = committed.schema("beta", "qrPin")
    assert pin["properties"]["id"]["type"] == "string" and "x-example-only" not in pin["properties"]["id"]
    assert pin["x-base-type"] == {"type": "microsoft.graph.entity", "x-provenance": [cite(BETA, 206)]}
    readings = doc_vs_metadata(committed, "beta", "base-type", "qrPin")
    assert readings["pages"] == {
        "reading": "no base type named",
        "source": "pages",
        "sources": [cite("graph-docs/beta/resources/qrpin.md", 1)],
    }
    assert readings["metadata"]["reading"] == "entity"


@pytest.mark.parametrize(("version", "metadata_line"), [("beta", 184), ("v1.0", 80)])
@pytest.mark.parametrize("prop", ["isUsable", "methodUsabilityReason"])
def test_a_property_only_an_example_shows_is_not_invented_and_is_a_conflict(
    committed: SchemaSet, version: str, metadata_line: int, prop: str
) -> None:
    schema = committed.schema(version, "qrCodePinAuthenticationMethod")["properties"][prop]
    assert schema["x-example-only"] is True and "type" not in schema
    readings = doc_vs_metadata(
        committed, version, "property-missing-from-metadata", f"qrCodePinAuthenticationMethod.{prop}"
    )
    assert readings["pages"]["reading"] == "shown in examples only, untyped"
    assert readings["pages"]["sources"] == schema["x-examples"]
    meta = {"beta": BETA, "v1.0": V1}[version]
    assert readings["metadata"]["sources"] == [cite(meta, metadata_line)]


def test_v1_metadata_has_no_qr_navigation_the_pages_document(committed: SchemaSet) -> None:
    readings = doc_vs_metadata(committed, "v1.0", "navigation", "/users/{id}/authentication/qrcodepinmethod")
    assert readings["metadata"] == {
        "reading": "no containment navigation property reaches it",
        "source": "metadata",
        "sources": [cite(V1, 32)],
    }
    assert readings["pages"]["reading"] == "documents operations on or below it (DELETE, GET, PATCH, PUT)"
    assert cite("graph-docs/v1.0/api/authentication-put-qrcodepinmethod.md", 38) in readings["pages"]["sources"]
    assert not any(
        c["version"] == "beta" and c.get("topic") == "navigation"
        for c in committed.documents["conflicts.json"]["conflicts"]
    )


def test_update_pin_lists_both_verbs_as_documented_alternatives(committed: SchemaSet) -> None:
    ops = committed.documents["beta/operations.json"]["operations"]
    patch = ops["PATCH /users/{id}/authentication/qrCodePinMethod/pin/updatepin"]
    post = ops["POST /users/{id}/authentication/qrCodePinMethod/pin/updatePin"]
    pages_patch = [
        cite("graph-docs/beta/api/qrpin-updatepin.md", 40),
        cite("graph-docs/beta/api/qrpin-updatepin.md", 49),
    ]
    assert patch["verbs"] == post["verbs"] == {"metadata": {"POST": [cite(BETA, 242)]}, "pages": {"PATCH": pages_patch}}
    assert patch["documented_alternatives"] == {"POST": {"source": "metadata", "sources": [cite(BETA, 242)]}}
    assert post["documented_alternatives"] == {"PATCH": {"source": "pages", "sources": pages_patch}}
    assert post["success"] == {"204": [{**cite(BETA, 242), "from": "metadata"}]}
    assert post["request_notes"][0]["note"].endswith("(currentPin, newPin), not a typed object")
    assert doc_vs_metadata(committed, "beta", "verbs", "/users/{id}/authentication/qrcodepinmethod/pin/updatepin")


def test_capability_annotations_give_the_verbs_the_metadata_allows(committed: SchemaSet) -> None:
    ops = committed.documents["beta/operations.json"]["operations"]
    method = ops["PUT /users/{id}/authentication/qrCodePinMethod"]["verbs"]["metadata"]
    assert {verb: found[0]["line"] for verb, found in method.items()} == {
        "DELETE": 262,
        "GET": 290,
        "PATCH": 284,
        "PUT": 284,
    }
    # no annotation targets the temporary code: the pages' verbs there are recorded against nothing
    readings = doc_vs_metadata(committed, "beta", "verbs", "/users/{id}/authentication/qrcodepinmethod/temporaryqrcode")
    assert readings["metadata"] == {
        "reading": "no capability annotation on this path",
        "source": "metadata",
        "sources": [cite(BETA, 191)],
    }


# --- enums and types on a small corpus -------------------------------------------------------------

RESOURCE = dedent("""\
    ---
    title: qrCodeImageDetails resource type
    doc_type: resourcePageType
    ---

    # qrCodeImageDetails resource type

    |Property|Type|Description|
    |:---|:---|:---|
    |errorCorrectionLevel|errorCorrectionLevel|The possible values are: `l`, `m`.|
    |version|String|x|
    """)
CSDL = dedent("""\
    <?xml version="1.0" encoding="utf-8"?>
    <edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
      <edmx:DataServices>
        <Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">
          <EnumType Name="errorCorrectionLevel">
            <Member Name="l" Value="1" />
            <Member Name="h" Value="4" />
          </EnumType>
          <ComplexType Name="qrCodeImageDetails">
            <Property Name="errorCorrectionLevel" Type="graph.errorCorrectionLevel" />
            <Property Name="version" Type="Edm.Int32" />
          </ComplexType>
        </Schema>
      </edmx:DataServices>
    </edmx:Edmx>
    """)


def small_corpus(tmp_path: Path) -> derivation.Derived:
    folder = tmp_path / "docs" / "v1.0" / "resources"
    folder.mkdir(parents=True)
    (folder / "qrcodeimagedetails.md").write_text(RESOURCE, encoding="utf-8")
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "v1.0.xml").write_text(CSDL, encoding="utf-8")
    files = derivation.metadata_files([str(tmp_path / "meta" / "v1.0.xml")])
    return derivation.derive(derivation.load_pages([tmp_path / "docs"]), derivation.read_models(files))


def test_enum_members_of_either_source_are_allowed_and_the_difference_is_a_conflict(tmp_path: Path) -> None:
    derived = small_corpus(tmp_path)
    image = derived.files["v1.0/qrCodeImageDetails.json"]
    assert image["$defs"]["errorCorrectionLevel"]["enum"] == ["h", "l", "m"]
    conflict = next(c for c in derived.files["conflicts.json"]["conflicts"] if c.get("topic") == "enum-members")
    assert conflict["subject"] == "errorCorrectionLevel"
    assert [(a["source"], a["reading"], a["sources"]) for a in conflict["alternatives"]] == [
        ("pages", "l, m", [cite("docs/v1.0/resources/qrcodeimagedetails.md", 10)]),
        ("metadata", "h, l", [cite("meta/v1.0.xml", 5)]),
    ]
    assert not any(c["kind"] == "enum-members" for c in derived.files["conflicts.json"]["conflicts"])


def test_a_type_the_sources_disagree_on_accepts_either_and_is_a_conflict(tmp_path: Path) -> None:
    derived = small_corpus(tmp_path)
    version = derived.files["v1.0/qrCodeImageDetails.json"]["properties"]["version"]
    assert version["x-graph-type"] == ["Int32", "String"]
    assert version["x-provenance"] == [cite("docs/v1.0/resources/qrcodeimagedetails.md", 11), cite("meta/v1.0.xml", 11)]
    conflict = next(c for c in derived.files["conflicts.json"]["conflicts"] if c.get("topic") == "property-type")
    assert conflict["subject"] == "qrCodeImageDetails.version"
    assert [a["reading"] for a in conflict["alternatives"]] == ["String", "Int32"]


# --- the command line ------------------------------------------------------------------------------

DOCS = [a for d in DOC_DIRS for a in ("--docs", str(d))]
HOSTILE = {
    "bomb": b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;">]>\n<a>&lol1;</a>\n',
    "external": b'<?xml version="1.0"?>\n<!DOCTYPE edmx [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n<a>&secret;</a>\n',
    "truncated": b'<?xml version="1.0"?>\n<edmx:Edmx xmlns:edmx="x">\n  <edmx:DataServices>\n    <Schema Namespace="m"',
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_metadata_exits_2_with_one_line_and_no_traceback(tmp_path: Path, kind: str) -> None:
    hostile = tmp_path / "v1.0.xml"
    hostile.write_bytes(HOSTILE[kind])
    result = graph_conformance("derive", *DOCS, "--metadata", str(hostile), "--out", str(tmp_path / "out"))
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"graph-conformance: error: {tmp_path.name}/v1.0.xml:"), lines
    assert "$metadata refused" in lines[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{dir}/metadata.xml", "cannot tell the API version: name the file beta.xml or v1.0.xml, or give VERSION=FILE"),
        ("v2=" + str(METADATA[1]), "'v2' is not an API version (beta, v1.0)"),
        ("beta=" + str(METADATA[1]), "ambiguous: the file's name says v1.0"),
        ("{dir}/beta.xml", "no such file"),
    ],
)
def test_a_metadata_file_whose_version_cannot_be_told_is_refused(tmp_path: Path, spec: str, message: str) -> None:
    (tmp_path / "metadata.xml").write_bytes(METADATA[0].read_bytes())
    spec = spec.format(dir=tmp_path)
    result = graph_conformance("derive", *DOCS, "--metadata", spec, "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"graph-conformance: error: derive: --metadata {spec}: {message}"]


def test_a_second_file_for_one_version_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "metadata.xml"
    copy.write_bytes(METADATA[0].read_bytes())
    result = graph_conformance(
        "derive", *DOCS, "--metadata", str(METADATA[0]), "--metadata", f"beta={copy}", "--out", str(tmp_path / "out")
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith(f"a second file for beta ({METADATA[0]})")


def test_an_explicit_version_names_a_file_of_any_name(tmp_path: Path) -> None:
    copy = tmp_path / "official.xml"
    copy.write_bytes(METADATA[0].read_bytes())
    files = derivation.metadata_files([f"beta={copy}", str(METADATA[1])])
    assert [(f.version, f.display) for f in files] == [("beta", f"{tmp_path.name}/official.xml"), ("v1.0", V1)]
