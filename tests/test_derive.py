"""Derivation: the committed schemas are what the docs derive, and they would catch a wrong payload."""

from __future__ import annotations

import json
import re
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from conformance import derive as derivation
from conformance.docpages import Page
from conformance.schemas import FORMAT_CHECKER, SchemaSet
from conformance.versions import ALL_VERSIONS as VERSIONS
from tests.helpers import COMMITTED, SHARED


def test_committed_schemas_are_exactly_what_the_docs_derive(derived: derivation.Derived) -> None:
    on_disk = {p.relative_to(COMMITTED).as_posix(): p.read_text(encoding="utf-8") for p in COMMITTED.rglob("*.json")}
    fresh = {rel: derivation.to_json_text(doc) for rel, doc in derived.files.items()}
    assert sorted(on_disk) == sorted(fresh)
    stale = [rel for rel in fresh if fresh[rel] != on_disk[rel]]
    assert stale == [], (
        "run: graph-conformance derive --docs ../shared/seeds --docs ../shared/graph-docs --docs ../shared/graph-docs-base"
        " --metadata ../shared/graph-metadata/beta.xml --metadata ../shared/graph-metadata/v1.0.xml"
    )


def test_derivation_does_not_depend_on_page_order(
    pages: list[Any], models: list[Any], derived: derivation.Derived
) -> None:
    again = derivation.derive(list(reversed(pages)), models)
    assert {k: derivation.to_json_text(v) for k, v in again.files.items()} == {
        k: derivation.to_json_text(v) for k, v in derived.files.items()
    }


# --- property lists and types, checked against CONTRACT-NOTES §2 ----------------------------------


def contract_tables() -> dict[str, dict[str, str]]:
    """Type name -> {property: type} from the tables of CONTRACT-NOTES §2.1-§2.5."""
    text = (SHARED / "CONTRACT-NOTES.md").read_text(encoding="utf-8")
    section = text[text.index("## 2. Types") : text.index("## 3.")]
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in section.splitlines():
        heading = re.match(r"^### 2\.\d `microsoft\.graph\.(\w+)`", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current is None or not line.startswith("| ") or cells[0] in ("Property", "Relationship"):
            continue
        name = cells[0].replace(" (relationship)", "")
        current[name] = re.sub(r"^(Edm|graph)\.", "", cells[1])
    return tables


def table_typed(schema: dict[str, Any]) -> dict[str, str]:
    return {n: p["x-graph-type"] for n, p in schema["properties"].items() if "x-graph-type" in p and n != "@odata.type"}


def test_contract_notes_tables_were_read() -> None:
    """§2 describes the QR types; the types their collections hold are derived too."""
    tables = contract_tables()
    assert sorted(tables) == sorted(set(derivation.TYPES) - {"authenticationMethodTarget", "excludeTarget"})
    assert tables["qrCodeImageDetails"]["version"] == "Int32"
    assert (
        tables["qrCodePinAuthenticationMethodConfiguration"]["includeTargets"]
        == "authenticationMethodTarget collection"
    )


@pytest.mark.parametrize("type_name", sorted(contract_tables()))
def test_every_property_and_type_agrees_with_contract_notes(committed: SchemaSet, type_name: str) -> None:
    expected = contract_tables()[type_name]
    derived_union: dict[str, str] = {}
    for version in VERSIONS:
        for name, graph_type in table_typed(committed.schema(version, type_name)).items():
            assert expected.get(name) == graph_type, f"{version} {type_name}.{name}: derived {graph_type}"
            derived_union[name] = graph_type
    assert derived_union == expected


# Where the versions differ (CONTRACT-NOTES §2.1, §2.4): what each version's tables give.
VERSION_SPECIFIC = {
    # beta's base page lacks createdDateTime, the metadata's authenticationMethod declares it
    ("beta", "qrCodePinAuthenticationMethod"): {
        "id",
        "createdDateTime",
        "lastUsedDateTime",
        "pin",
        "standardQRCode",
        "temporaryQRCode",
    },
    ("v1.0", "qrCodePinAuthenticationMethod"): {"id", "createdDateTime", "pin", "standardQRCode", "temporaryQRCode"},
    # beta's page names no base; the metadata's is entity, whose id the beta example shows
    ("beta", "qrPin"): {"id", "code", "createdDateTime", "forceChangePinNextSignIn", "updatedDateTime"},
    ("v1.0", "qrPin"): {"id", "code", "createdDateTime", "forceChangePinNextSignIn", "updatedDateTime"},
}


@pytest.mark.parametrize(("version", "type_name"), sorted(VERSION_SPECIFIC))
def test_version_specific_property_lists(committed: SchemaSet, version: str, type_name: str) -> None:
    assert set(table_typed(committed.schema(version, type_name))) == VERSION_SPECIFIC[(version, type_name)]


@pytest.mark.parametrize("version", VERSIONS)
def test_enums_have_exactly_the_documented_members(committed: SchemaSet, version: str) -> None:
    image = committed.schema(version, "qrCodeImageDetails")
    assert image["$defs"]["errorCorrectionLevel"]["enum"] == ["h", "l", "m", "q", "unknownFutureValue"]
    config = committed.schema(version, "qrCodePinAuthenticationMethodConfiguration")
    assert config["$defs"]["authenticationMethodState"]["enum"] == ["disabled", "enabled"]


def test_every_property_cites_a_page_line_that_names_it(committed: SchemaSet) -> None:
    """Table facts cite the table row; example facts cite the first line of the example body."""
    for version in VERSIONS:
        for type_name in derivation.TYPES:
            for name, prop in committed.schema(version, type_name)["properties"].items():
                assert prop.get("x-provenance") or prop.get("x-examples"), f"{version} {type_name}.{name}: no citation"
                for cite in prop.get("x-provenance", []):
                    line = (SHARED / cite["page"]).read_text(encoding="utf-8").splitlines()[cite["line"] - 1]
                    assert name in line or (name == "@odata.type" and line.strip() == "{"), f"{cite}: {name}"
                for cite in prop.get("x-examples", []):
                    lines = (SHARED / cite["page"]).read_text(encoding="utf-8").splitlines()
                    body = "\n".join(lines[cite["line"] - 1 : cite["line"] + 60])
                    assert lines[cite["line"] - 1].strip() == "{" and f'"{name}"' in body, f"{cite}: {name}"


def test_example_only_properties_are_kept_untyped(committed: SchemaSet) -> None:
    method = committed.schema("v1.0", "qrCodePinAuthenticationMethod")["properties"]
    assert method["isUsable"] == {
        "x-example-only": True,
        "x-examples": [{"line": 113, "page": "graph-docs/v1.0/api/authentication-put-qrcodepinmethod.md"}],
    }


REQUIRED = {  # what the metadata says is never null, less what a response example omits
    ("beta", "excludeTarget"): [],  # beta's policy GET example shows a target without id or targetType
    ("v1.0", "excludeTarget"): ["id", "targetType"],
    ("beta", "qrPin"): ["code"],  # id: the reset examples omit it
    ("v1.0", "qrPin"): ["code"],
    **{(v, "authenticationMethodTarget"): ["id", "isRegistrationRequired", "targetType"] for v in VERSIONS},
    **{(v, "qrCodeImageDetails"): [] for v in VERSIONS},
    **{(v, t): ["id"] for v in VERSIONS for t in ("qrCode", "qrCodePinAuthenticationMethod")},
    **{(v, "qrCodePinAuthenticationMethodConfiguration"): ["id"] for v in VERSIONS},
}


def test_what_the_metadata_never_leaves_null_is_required_unless_an_example_omits_it(committed: SchemaSet) -> None:
    assert {(v, t): committed.schema(v, t)["required"] for v in VERSIONS for t in derivation.TYPES} == REQUIRED
    pin = committed.schema("v1.0", "qrPin")
    assert pin["x-required-provenance"] == {"code": [{"line": 91, "page": "graph-metadata/v1.0.xml"}]}


def test_only_complete_examples_make_properties_required(tmp_path: Path) -> None:
    docs = tmp_path / "docs" / "v1.0"
    docs.mkdir(parents=True)
    (docs / "qrpin.md").write_text(
        dedent("""\
            ---
            title: qrPin resource type
            doc_type: resourcePageType
            ---

            ## Properties

            |Property|Type|Description|
            |:---|:---|:---|
            |code|String|x|
            |id|String|x|
            """)
    )

    def response(body: str, truncated: bool = False) -> str:
        """A qrPin response example: its annotation, status line and ``body``."""
        flag = '\n  "truncated": true,' if truncated else ""
        return dedent("""\
            <!-- {{
              "blockType": "response",{flag}
              "@odata.type": "microsoft.graph.qrPin"
            }} -->
            ```http
            HTTP/1.1 201 Created

            {body}
            ```
            """).format(flag=flag, body=body)

    def api_page(title: str, *examples: str) -> str:
        return dedent(f"""\
            ---
            title: {title}
            doc_type: apiPageType
            ---

            """) + "".join(examples)

    complete = api_page("a", response('{"code": "1234567890", "id": "a"}'), response('{"code": "1234567890"}'))
    (docs / "complete.md").write_text(complete)
    (docs / "truncated.md").write_text(api_page("b", response('{"code": "1234567890"}', truncated=True)))
    derived = derivation.derive(derivation.load_pages([tmp_path / "docs"]))
    # "code" is in both complete examples; "id" in one only; the truncated example does not count.
    assert derived.files["v1.0/qrPin.json"]["required"] == ["code"]


# --- the schemas really validate ----------------------------------------------------------------


def test_date_time_format_is_really_checked() -> None:
    assert "date-time" in FORMAT_CHECKER.checkers
    assert not FORMAT_CHECKER.conforms("2025-13-01T00:00:00Z", "date-time")


def example_ids(examples: list[dict[str, Any]]) -> list[str]:
    return [f"{e['page']}:{e['line']}" for e in examples]


def test_every_documented_example_validates(
    committed: SchemaSet, pages: list[Page], derived: derivation.Derived
) -> None:
    # every response example that shows an object is one of the documented types, and is validated
    responses = {
        (p.path, e.body_line) for p in pages for e in p.examples if e.kind == "response" and isinstance(e.body, dict)
    }
    assert {(e["page"], e["line"]) for e in derived.examples} == responses
    failures = {
        f"{e['page']}:{e['line']}": [err.message for err in committed.errors(e["version"], e["type"], e["body"])]
        for e in derived.examples
    }
    assert {k: v for k, v in failures.items() if v} == {}


GRAPH_DATES = [
    "2025-03-04T21:27:46.9771036Z",
    "0001-01-01T00:00:00Z",
    "2026-12-01T00:00:00+00:00",
    "2025-12-19T12:00:00Z",
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("value", GRAPH_DATES)
def test_graph_date_forms_are_accepted(committed: SchemaSet, version: str, value: str) -> None:
    assert committed.errors(version, "qrCode", {"id": "a", "startDateTime": value, "expireDateTime": value}) == []


VALID_IMAGE = {
    "binaryValue": "SGVsbG9Xb3JsZCE=",
    "rawContent": "bXMtcXJwaW46djF8",
    "version": 1,
    "errorCorrectionLevel": "l",
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("type_name", "payload", "where", "message"),
    [
        ("qrCode", {"startDateTime": "2025-02-30T12:00:00Z"}, ["startDateTime"], "is not a 'date-time'"),
        ("qrCode", {"expireDateTime": "2025-01-01 12:00"}, ["expireDateTime"], "is not a 'date-time'"),
        ("qrCode", {"createdDateTime": 1735732800}, ["createdDateTime"], "is not of type 'string', 'null'"),
        ("qrCode", {"image": {**VALID_IMAGE, "binaryValue": "Binary"}}, ["image"], "is not valid under any"),
        (
            "qrCodeImageDetails",
            {**VALID_IMAGE, "binaryValue": "PHN2ZyB2ZXJz..."},
            ["binaryValue"],
            "is not valid base64",
        ),
        ("qrCodeImageDetails", {**VALID_IMAGE, "rawContent": "SGVsbG8"}, ["rawContent"], "is not valid base64"),
        (
            "qrCodeImageDetails",
            {**VALID_IMAGE, "errorCorrectionLevel": "H"},
            ["errorCorrectionLevel"],
            "is not valid under any",
        ),
        (
            "qrCodeImageDetails",
            {**VALID_IMAGE, "errorCorrectionLevel": "x"},
            ["errorCorrectionLevel"],
            "is not valid under any",
        ),
        ("qrCodeImageDetails", {**VALID_IMAGE, "version": "1"}, ["version"], "is not of type 'integer', 'null'"),
        ("qrCodeImageDetails", {**VALID_IMAGE, "version": 2**31}, ["version"], "is greater than the maximum"),
        (
            "qrPin",
            {"forceChangePinNextSignIn": "true"},
            ["forceChangePinNextSignIn"],
            "is not of type 'boolean', 'null'",
        ),
        ("qrPin", {"code": 9599786}, ["code"], "is not of type 'string', 'null'"),
        ("qrCodePinAuthenticationMethod", {"id": None}, ["id"], "is not of type 'string'"),
        ("qrCodePinAuthenticationMethod", {"pin": {"code": 1}}, ["pin"], "is not valid under any"),
        ("qrCodePinAuthenticationMethodConfiguration", {"state": "on"}, ["state"], "is not valid under any"),
        (
            "qrCodePinAuthenticationMethodConfiguration",
            {"pinLength": 8.5},
            ["pinLength"],
            "is not of type 'integer', 'null'",
        ),
        (
            "qrCodePinAuthenticationMethodConfiguration",
            {"excludeTargets": {}},
            ["excludeTargets"],
            "is not of type 'array'",
        ),
        ("qrCode", {"@odata.type": "#microsoft.graph.qrPin"}, ["@odata.type"], "is not one of"),
        ("qrCode", [], [], "is not of type 'object'"),
    ],
)
def test_wrong_payloads_are_rejected(
    committed: SchemaSet, version: str, type_name: str, payload: Any, where: list[str], message: str
) -> None:
    if isinstance(payload, dict):  # the required members, so only the wrong one is reported
        fillers = {"id": "an-id", "code": None, "isRegistrationRequired": False, "targetType": "group"}
        payload = {**{r: fillers[r] for r in committed.schema(version, type_name)["required"]}, **payload}
    errors = committed.errors(version, type_name, payload)
    assert [list(e.absolute_path) for e in errors] == [where]
    assert message in errors[0].message


@pytest.mark.parametrize("version", VERSIONS)
def test_error_envelope(committed: SchemaSet, version: str) -> None:
    good = {"error": {"code": "pinTooShort", "message": "m", "innerError": {"request-id": "r", "date": "d"}}}
    assert committed.errors(version, "graphError", good) == []
    assert [e.message for e in committed.errors(version, "graphError", "Bad Request")] == [
        "'Bad Request' is not of type 'object'"
    ]
    assert [e.message for e in committed.errors(version, "graphError", {"error": {"message": "m"}})] == [
        "'code' is a required property"
    ]


def test_error_codes_are_derived_from_the_error_tables(committed: SchemaSet) -> None:
    codes = committed.schema("v1.0", "graphError")["properties"]["error"]["properties"]["code"]["x-documented-codes"]
    assert sorted(codes) == [
        "ActiveQRCodeExisted",
        "pinTooShort",
        "qrCodeLifeTimeExceedLimit",
        "standardQRCodeRequired",
        "tooManyQRCodePinMethod",
    ]
    assert {c["status"] for group in codes.values() for c in group} == {400}


# --- operations and conflicts -------------------------------------------------------------------


def test_operations_catalogue(committed: SchemaSet, pages: list[Page]) -> None:
    v1 = committed.documents["v1.0/operations.json"]["operations"]
    put = v1["PUT /users/{id}/authentication/qrCodePinMethod"]
    assert put["success"].keys() == {"201"}
    assert sorted(put["paths"]) == [
        "/me/authentication/qrCodePinMethod",
        "/users/{id | userPrincipalName}/authentication/qrCodePinMethod",
        "/users/{id}/authentication/qrCodePinMethod",
    ]
    assert sorted(e["code"] for e in put["errors"]["400"]) == [
        "pinTooShort",
        "standardQRCodeRequired",
        "standardQRCodeRequired",
        "tooManyQRCodePinMethod",
    ]
    assert put["request_types"] == put["response_types"] == ["qrCodePinAuthenticationMethod"]
    beta = committed.documents["beta/operations.json"]["operations"]
    assert [e["line"] for e in beta["GET /users/{id}/authentication/qrCodePinMethod"]["errors"]["404"]] == [69]
    assert beta["PATCH /users/{id}/authentication/qrCodePinMethod/pin/updatepin"]["success"].keys() == {"204"}
    hardware = [k for k in beta if "hardwareOathDevices" in k]
    assert hardware and not any(beta[k]["published"] for k in hardware)
    # an operation is published when a page that is not a draft documents it
    drafts = {p.path for p in pages if p.draft}
    for catalogue in (beta, v1):
        published = {k for k, op in catalogue.items() if op["published"]}
        assert published and published == {k for k, op in catalogue.items() if set(op["pages"]) - drafts}


def conflict(committed: SchemaSet, kind: str, version: str, subject: str) -> dict[str, Any]:
    matches = [
        c
        for c in committed.documents["conflicts.json"]["conflicts"]
        if (c["kind"], c["version"], c["subject"]) == (kind, version, subject)
    ]
    assert len(matches) == 1, json.dumps(committed.documents["conflicts.json"], indent=1)[:2000]
    return matches[0]


def test_standard_qr_update_status_conflict_is_recorded_with_every_source(committed: SchemaSet) -> None:
    found = conflict(
        committed, "success-status", "v1.0", "PATCH /users/{id}/authentication/qrCodePinMethod/standardQRCode"
    )
    by_status = {a["status"]: {(s["page"], s["line"], s["from"]) for s in a["sources"]} for a in found["alternatives"]}
    assert sorted(by_status) == [200, 201, 204]
    assert ("graph-docs/v1.0/api/qrcode-update.md", 157, "example") in by_status[200]
    assert ("graph-docs/v1.0/api/qrcode-update.md", 70, "text") in by_status[201]
    assert ("graph-docs/v1.0/drafts/qrcodepinauthenticationmethod-update-standardqrcode.md", 53, "text") in by_status[
        204
    ]
    beta = conflict(
        committed, "success-status", "beta", "PATCH /users/{id}/authentication/qrCodePinMethod/standardQRCode"
    )
    assert [a["status"] for a in beta["alternatives"]] == [200, 201]


def test_policy_update_status_differs_between_versions(committed: SchemaSet) -> None:
    found = conflict(
        committed,
        "success-status-across-versions",
        "beta,v1.0",
        "PATCH /policies/authenticationmethodspolicy/authenticationmethodconfigurations/qrcodepin",
    )
    assert [(a["version"], a["statuses"]) for a in found["alternatives"]] == [("beta", [204]), ("v1.0", [200])]


def test_pages_disagreeing_on_a_property_type_is_a_conflict(tmp_path: Path) -> None:
    for name, graph_type in (("a.md", "DateTimeOffset"), ("b.md", "String")):
        page = tmp_path / "docs" / "beta" / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(
            dedent(f"""\
                ---
                title: qrCode resource type
                doc_type: resourcePageType
                ---

                |Property|Type|Description|
                |:---|:---|:---|
                |expireDateTime|{graph_type}|x|
                """)
        )
    derived = derivation.derive(derivation.load_pages([tmp_path / "docs"]))
    prop = derived.files["beta/qrCode.json"]["properties"]["expireDateTime"]
    assert prop["x-graph-type"] == ["DateTimeOffset", "String"]
    (found,) = [c for c in derived.files["conflicts.json"]["conflicts"] if c["kind"] == "property-type"]
    assert found["subject"] == "qrCode.expireDateTime"
    assert [(a["type"], a["sources"][0]["page"]) for a in found["alternatives"]] == [
        ("DateTimeOffset", "docs/beta/a.md"),
        ("String", "docs/beta/b.md"),
    ]


def test_repairs_are_recorded_with_page_and_line(committed: SchemaSet) -> None:
    repairs = committed.documents["repairs.json"]["repairs"]
    kinds = {r["kind"] for r in repairs}
    assert kinds == {"trailing-comma", "missing-comma", "truncated-value", "placeholder-value", "value-wrapper"}
    assert {
        "kind": "missing-comma",
        "page": "seeds/004_a3d69102a19e5c8b.txt",
        "line": 126,
        "detail": "inserted ',' between members",
    } in repairs
