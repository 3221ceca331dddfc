"""Inheritance through the base-type pages, the types the QR collections hold, and request body types."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from conformance import derive as derivation
from conformance.schemas import SchemaSet
from conformance.versions import ALL_VERSIONS as VERSIONS


def resource_page(name: str, rows: str, base: str | None = None) -> str:
    """A v1.0 resource page for ``name``: an optional "Inherits from" line (line 7), then a property table.

    Table rows start at line 11.
    """
    inherits = f"Inherits from [{base}]({base.lower()}.md)." if base else ""
    return dedent(f"""\
            ---
            title: {name} resource type
            doc_type: resourcePageType
            ---

            # {name} resource type
            {inherits}

            |Property|Type|Description|
            |:---|:---|:---|
            """) + dedent(rows)


def derive_from(tmp_path: Path, pages: dict[str, str]) -> dict[str, Any]:
    """Derive from ``pages`` (file name -> text) in a v1.0 resources folder; the derived files."""
    folder = tmp_path / "docs" / "v1.0" / "resources"
    folder.mkdir(parents=True)
    for file_name, text in pages.items():
        (folder / file_name).write_text(text, encoding="utf-8")
    return derivation.derive(derivation.load_pages([tmp_path / "docs"])).files


ENTITY_REPRESENTATION = """
<!-- {"blockType": "resource", "keyProperty": "id", "@odata.type": "microsoft.graph.entity"} -->
```json
{"id": "String (identifier)"}
```
"""
BASE_CHAIN = {
    "entity.md": resource_page("entity", "|id|String|x|\n") + ENTITY_REPRESENTATION,
    "authenticationmethod.md": resource_page(
        "authenticationMethod", "|createdDateTime|DateTimeOffset|x|\n|lastUsedDateTime|DateTimeOffset|x|\n", "entity"
    ),
}


def test_inherited_properties_are_typed_and_cite_the_base_page(tmp_path: Path) -> None:
    """The chain qrCodePinAuthenticationMethod -> authenticationMethod -> entity is followed to its end."""
    method = resource_page("qrCodePinAuthenticationMethod", "|pin|[qrPin](qrpin.md)|x|\n", "authenticationMethod")
    files = derive_from(tmp_path, {**BASE_CHAIN, "qrcodepinauthenticationmethod.md": method})
    schema = files["v1.0/qrCodePinAuthenticationMethod.json"]
    created = schema["properties"]["createdDateTime"]
    assert created["type"] == ["string", "null"] and created["format"] == "date-time"
    assert created["x-provenance"] == [{"page": "docs/v1.0/resources/authenticationmethod.md", "line": 11}]
    assert created["x-inherited-from"] == "microsoft.graph.authenticationMethod"
    key = schema["properties"]["id"]  # two levels up, and entity's key (inherited too): never null
    assert key["type"] == "string" and key["x-inherited-from"] == "microsoft.graph.entity"
    assert schema["x-key-property"] == "id"
    assert key["x-provenance"] == [{"page": "docs/v1.0/resources/entity.md", "line": 11}]
    assert "x-inherited-from" not in schema["properties"]["pin"]
    assert schema["x-base-type"] == {
        "type": "microsoft.graph.authenticationMethod",
        "x-provenance": [{"page": "docs/v1.0/resources/qrcodepinauthenticationmethod.md", "line": 7}],
    }


def test_the_types_own_declaration_wins_and_a_different_type_is_a_conflict(tmp_path: Path) -> None:
    method = resource_page(
        "qrCodePinAuthenticationMethod",
        "|createdDateTime|String|x|\n|lastUsedDateTime|DateTimeOffset|x|\n",
        "authenticationMethod",
    )
    files = derive_from(tmp_path, {**BASE_CHAIN, "qrcodepinauthenticationmethod.md": method})
    properties = files["v1.0/qrCodePinAuthenticationMethod.json"]["properties"]
    own = [{"page": "docs/v1.0/resources/qrcodepinauthenticationmethod.md", "line": 11}]
    assert (properties["createdDateTime"]["type"], properties["createdDateTime"]["x-provenance"]) == (
        ["string", "null"],
        own,
    )
    assert "x-inherited-from" not in properties["createdDateTime"]
    conflicts = [c for c in files["conflicts.json"]["conflicts"] if c["kind"] == "property-type"]
    assert conflicts == [
        {
            "kind": "property-type",
            "version": "v1.0",
            "subject": "qrCodePinAuthenticationMethod.createdDateTime",
            "alternatives": [
                {
                    "type": "DateTimeOffset",
                    "sources": [{"page": "docs/v1.0/resources/authenticationmethod.md", "line": 11}],
                },
                {"type": "String", "sources": own},
            ],
        }
    ]  # the same type on both pages (lastUsedDateTime) is no conflict


def test_a_cycle_of_bases_ends_the_chain(tmp_path: Path) -> None:
    pages = {
        "qrpin.md": resource_page("qrPin", "|code|String|x|\n", "entity"),
        "entity.md": resource_page("entity", "|id|String|x|\n", "qrPin"),
    }
    properties = derive_from(tmp_path, pages)["v1.0/qrPin.json"]["properties"]
    assert sorted(properties) == ["code", "id"]


# --- the corpus ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_target_collections_hold_typed_items_and_are_never_null(committed: SchemaSet, version: str) -> None:
    properties = committed.schema(version, "qrCodePinAuthenticationMethodConfiguration")["properties"]
    assert properties["includeTargets"]["type"] == properties["excludeTargets"]["type"] == "array"
    assert properties["includeTargets"]["items"] == {"$ref": "authenticationMethodTarget.json"}
    assert properties["excludeTargets"]["items"] == {"$ref": "excludeTarget.json"}
    target = committed.schema(version, "authenticationMethodTarget")
    assert target["$defs"]["authenticationMethodTargetType"]["enum"][:2] == ["group", "unknownFutureValue"]
    assert target["x-base-type"]["type"] == "microsoft.graph.entity"
    target = {"id": "all_users", "targetType": "group", "isRegistrationRequired": False}
    good = {"id": "QRCodePin", "includeTargets": [target]}
    assert committed.errors(version, "qrCodePinAuthenticationMethodConfiguration", good) == []
    for wrong, where in (
        ({"includeTargets": None}, ["includeTargets"]),
        ({"excludeTargets": None}, ["excludeTargets"]),
        ({"includeTargets": [{**target, "targetType": "everyone"}]}, ["includeTargets", 0, "targetType"]),
        ({"excludeTargets": [{"id": 7, "targetType": "group"}]}, ["excludeTargets", 0, "id"]),
    ):
        errors = committed.errors(version, "qrCodePinAuthenticationMethodConfiguration", {"id": "QRCodePin", **wrong})
        assert [list(e.absolute_path) for e in errors] == [where], wrong


def test_every_collection_property_is_a_non_null_array(committed: SchemaSet) -> None:
    for version in VERSIONS:
        for type_name in derivation.TYPES:
            for name, prop in committed.schema(version, type_name)["properties"].items():
                if str(prop.get("x-graph-type", "")).endswith(" collection"):
                    assert prop["type"] == "array", f"{version} {type_name}.{name}"


def test_the_base_type_is_recorded_with_its_lines(committed: SchemaSet) -> None:
    method = committed.schema("beta", "qrCodePinAuthenticationMethod")
    assert method["x-base-type"] == {
        "type": "microsoft.graph.authenticationMethod",
        "x-provenance": [
            {"line": 21, "page": "graph-docs/beta/resources/qrcodepinauthenticationmethod.md"},
            {"line": 51, "page": "graph-docs/beta/resources/qrcodepinauthenticationmethod.md"},
            {"line": 184, "page": "graph-metadata/beta.xml"},
            {"line": 15, "page": "seeds/003_8897495a389f4de1.txt"},
        ],
    }
    assert "x-base-type" not in committed.schema("v1.0", "qrCodeImageDetails")  # a complex type with no base


def test_every_writing_operation_has_a_request_type_or_says_why_not(committed: SchemaSet) -> None:
    for version in VERSIONS:
        for key, op in committed.documents[f"{version}/operations.json"]["operations"].items():
            if op["method"] in ("PUT", "PATCH", "POST"):
                assert op["request_types"] or op["request_notes"], f"{version} {key}"
            if op["request_notes"]:
                for note in op["request_notes"]:  # a page of the operation, or the metadata's action
                    assert note["page"] in op["pages"] or note["page"].startswith("graph-metadata/"), note
                    assert note["line"] > 0
    beta = committed.documents["beta/operations.json"]["operations"]
    v1 = committed.documents["v1.0/operations.json"]["operations"]
    assert beta["PATCH /users/{id}/authentication/qrCodePinMethod/pin"]["request_types"] == ["qrPin"]
    assert beta["PATCH /users/{id}/authentication/qrCodePinMethod/temporaryQRCode"]["request_types"] == ["qrCode"]
    assert v1["PATCH /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/qrCodePin"][
        "request_types"
    ] == ["qrCodePinAuthenticationMethodConfiguration"]
    assert beta["PATCH /users/{id}/authentication/qrCodePinMethod/pin/updatepin"]["request_notes"] == [
        {
            "line": 59,
            "note": "the request body holds action parameters (currentPin, newPin), not a typed object",
            "page": "graph-docs/beta/api/qrpin-updatepin.md",
        }
    ]
