"""The page reader: every corpus page reads, each of the three forms yields the same structure."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from conformance.docpages import Page, parse_page, read_page
from conformance.errors import DocError, DocJsonError
from tests.helpers import DOC_DIRS, DOC_PAGES, SHARED

CORPUS = DOC_PAGES


def read(rel: str):
    return read_page(SHARED / rel, rel)


def test_the_corpus_is_where_the_tests_expect_it(pages: list[Page]) -> None:
    """Every doc folder holds pages, and the pages read here are the pages derive reads."""
    assert all(any(p.is_relative_to(d) for p in CORPUS) for d in DOC_DIRS)
    assert sorted(page.path for page in pages) == sorted(p.relative_to(SHARED).as_posix() for p in CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.relative_to(SHARED).as_posix())
def test_every_page_reads_without_error(path: Path) -> None:
    page = read_page(path, path.relative_to(SHARED).as_posix())
    assert page.title
    assert page.version in ("beta", "v1.0")
    assert page.examples or page.representations, "a page with neither examples nor a JSON representation"


def test_markdown_page_seed000() -> None:
    page = read("seeds/000_16843a641dba434e.txt")
    assert (page.form, page.title, page.version, page.doc_type) == (
        "markdown",
        "Get standard QR code",
        "v1.0",
        "apiPageType",
    )
    assert [(s.method, s.path, s.line) for s in page.syntax] == [
        ("GET", "/users/{id | userPrincipalName}/authentication/qrCodePinMethod/standardQRCode", 36)
    ]
    request, response = page.examples
    assert (request.kind, request.method, request.line, request.annotation["name"]) == (
        "request",
        "GET",
        69,
        "get_standardqrcode",
    )
    assert request.path == "/users/7c4999ca-a540-47ab-9ab9-8c362f5bf0fe/authentication/qrCodePinMethod/standardQRCode"
    assert (response.status, response.line, response.body_line) == (200, 83, 86)
    assert response.annotation == {"blockType": "response", "truncated": True, "@odata.type": "microsoft.graph.qrCode"}
    assert response.body["image"] is None and response.body["id"] == "6C2F8B36-B6F0-46FA-9548-1EBA48BEBBDE"
    assert [(s.status, s.kind, s.line) for s in page.statuses] == [(200, "response", 55)]
    assert page.response_types == [("qrCode", 55)]
    assert page.repairs == []


def test_rendered_page_seed001() -> None:
    page = read("seeds/001_e16b2302f2791361.txt")
    assert (page.form, page.title, page.version) == ("rendered", "Get qrCodePinAuthenticationMethod", "v1.0")
    assert [(s.method, s.path, s.line) for s in page.syntax] == [
        ("GET", "/users/{id | userPrincipalName}/authentication/qrCodePinMethod", 39)
    ]
    assert [(e.kind, e.method, e.status, e.line) for e in page.examples] == [
        ("request", "GET", None, 64),
        ("response", None, 200, 72),
    ]
    body = page.examples[1].body
    assert body["pin"]["code"] is None and body["temporaryQRCode"]["id"] == "8DF9D1B6-B4BD-4EF8-8E90-2CC63C549C80"
    assert [(s.status, s.line) for s in page.statuses] == [(200, 56)]
    assert page.response_types == [("qrCodePinAuthenticationMethod", 56)]
    assert not page.is_resource


def test_table_front_matter_page_seed003() -> None:
    page = read("seeds/003_8897495a389f4de1.txt")
    assert (page.form, page.version, page.doc_type) == ("table-front-matter", "beta", "resourcePageType")
    assert page.front_matter["title"] == "qrCodePinAuthenticationMethod resource type"
    assert page.is_resource and page.resource_name == "qrCodePinAuthenticationMethod"
    tables = {t.header[0]: [(line, cells[0], cells[1]) for line, cells in t.rows] for t in page.tables}
    assert tables["Property"] == [(23, "id", "String"), (24, "lastUsedDateTime", "DateTimeOffset")]
    assert [name for _, name, _ in tables["Relationship"]] == ["pin", "standardQRCode", "temporaryQRCode"]
    assert [name for _, name, _ in tables["Method"]] == ["Get", "Create", "Delete"]
    assert [(r.kind, r.line) for r in page.repairs] == [("placeholder-value", 33), ("placeholder-value", 34)]


def test_seed002_trailing_commas_and_both_examples() -> None:
    page = read("seeds/002_ceb8d830ce774453.txt")
    assert [(r.kind, r.line) for r in page.repairs] == [("trailing-comma", 95), ("trailing-comma", 178)]
    assert [(e.kind, e.status, e.method, e.line) for e in page.examples] == [
        ("request", None, "PATCH", 89),
        ("response", 201, None, 140),
        ("request", None, "PATCH", 173),
        ("response", 200, None, 223),
    ]
    assert [s.path for s in page.syntax] == [
        "/me/authentication/qrCodePinMethod/standardQRCode",
        "/me/authentication/qrCodePinMethod/temporaryQRCode",
        "/users/{id}/authentication/qrCodePinMethod/standardQRCode",
        "/users/{id}/authentication/qrCodePinMethod/temporaryQRCode",
    ]
    assert page.examples[2].path == "/me/authentication/qrCodePinMethod/standardQRCode"


def test_seed004_every_known_defect_is_repaired_and_recorded() -> None:
    page = read("seeds/004_a3d69102a19e5c8b.txt")
    assert page.version == "beta" and page.draft
    assert sorted((r.kind, r.line) for r in page.repairs) == [
        ("missing-comma", 126),
        ("placeholder-value", 98),
        ("placeholder-value", 98),
        ("trailing-comma", 99),
        ("truncated-value", 127),
        ("truncated-value", 130),
    ]
    assert [s.path for s in page.syntax] == [
        "/users/{id}/authentication/qrcodepinmethod/standardQRCode",
        "/users/{id}/authentication/qrcodepinmethod/temporaryQRCode",
    ]


def test_value_wrapper_in_a_response_is_unwrapped() -> None:
    page = read("graph-docs/v1.0/api/qrcode-get.md")
    response = next(e for e in page.examples if e.kind == "response")
    assert "value" not in response.body and response.body["@odata.type"] == "#microsoft.graph.qrCode"
    assert [(r.kind, r.line) for r in page.repairs] == [("value-wrapper", 98)]


def test_odd_request_lines_are_read_and_noted() -> None:
    patch_get = read("graph-docs/beta/drafts/qrcodepinauthenticationmethod-patch-pin.md")
    assert [(s.method, s.path) for s in patch_get.syntax] == [
        ("PATCH", "/users/{id}/authentication/qrcodepinmethod/pin")
    ]
    assert any("extra verbs 'GET'" in n for n in patch_get.notes)
    doubled = read("graph-docs/beta/api/qrcodepinauthenticationmethodconfiguration-delete.md")
    request = next(e for e in doubled.examples if e.kind == "request")
    assert request.path == "/policies/authenticationmethodspolicy/authenticationmethodconfigurations/qrcodepin"
    assert any("doubled version" in n for n in doubled.notes)


def test_error_tables_and_error_statements_are_read() -> None:
    page = read("graph-docs/v1.0/drafts/qrcodepinauthenticationmethod-post-temporaryqrcode.md")
    table = next(t for t in page.tables if "Error code" in t.header)
    assert [(line, cells[1], cells[2]) for line, cells in table.rows] == [
        (62, "400 Bad Request", "ActiveQRCodeExisted"),
        (63, "400 Bad Request", "qrCodeLifeTimeExceedLimit"),
    ]
    get = read("graph-docs/beta/api/qrcodepinauthenticationmethod-get.md")
    assert [(s.status, s.kind) for s in get.statuses] == [(200, "response"), (404, "error")]


def test_rendered_flattened_property_table() -> None:
    text = (Path(__file__).parent / "fixtures" / "rendered-resource.txt").read_text()
    page = parse_page(text, "fixtures/v1.0/rendered-resource.txt")
    assert page.form == "rendered" and page.version == "v1.0" and page.is_resource
    table = next(t for t in page.tables if t.header[0] == "Property")
    assert [(line, cells[0], cells[1]) for line, cells in table.rows] == [
        (10, "createdDateTime", "DateTimeOffset"),
        (11, "excludeTargets", "excludeTarget collection"),
        (12, "pinLength", "Int32"),
    ]
    assert page.resource_name == "qrCodePinAuthenticationMethodConfiguration"


def test_unreadable_json_in_a_page_names_page_line_and_column() -> None:
    text = dedent("""\
        ---
        title: x
        doc_type: apiPageType
        ---

        <!-- {
          "blockType": "response"
        } -->
        ```http
        HTTP/1.1 200 OK

        {
          "id": "a"
          "x": tru
        }
        ```
        """)
    with pytest.raises(DocJsonError) as caught:
        parse_page(text, "v1.0/broken.md")
    # the missing comma at line 13 is repaired; the bad literal at line 14 is not
    assert str(caught.value) == "v1.0/broken.md:14:8: invalid JSON (Expecting value) that no known repair covers"


def test_unclosed_annotation_is_a_clear_error() -> None:
    with pytest.raises(DocError) as caught:
        parse_page(
            dedent("""\
                ---
                title: x
                ---
                <!-- { "blockType": "request" -->
                """),
            "v1.0/x.md",
        )
    assert str(caught.value) == "v1.0/x.md:4: annotation comment has an unclosed '{'"


def test_a_file_that_is_not_text_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.md"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DocError) as caught:
        read_page(path, "v1.0/binary.md")
    assert str(caught.value).startswith("v1.0/binary.md:1: cannot read page:")


def test_base_types_come_from_inherits_lines_and_the_base_type_annotation() -> None:
    """Prose "Inherits from X" (linked, bare or mid-sentence) and ``baseType`` count; a table row's does not."""
    assert read("graph-docs/v1.0/resources/qrpin.md").base_types == [("entity", 22), ("entity", 53)]
    assert read("seeds/003_8897495a389f4de1.txt").base_types == [("authenticationMethod", 15)]
    assert read("graph-docs-base/beta/resources/authenticationmethodtarget.md").base_types == [
        ("entity", 17),
        ("entity", 36),
    ]
    # The id row says "Inherits from [entity]": where the property comes from, not the type's base.
    method = read("graph-docs/beta/resources/qrcodepinauthenticationmethod.md")
    assert method.base_types == [("authenticationMethod", 21), ("authenticationMethod", 51)]
    assert read("graph-docs/beta/resources/qrpin.md").base_types == []


def test_the_request_body_section_names_the_request_type() -> None:
    v1_config = read("graph-docs/v1.0/api/qrcodepinauthenticationmethodconfiguration-update.md")
    assert (v1_config.request_types, v1_config.request_body_line) == (
        [("qrCodePinAuthenticationMethodConfiguration", 45)],
        43,
    )
    assert read("seeds/004_a3d69102a19e5c8b.txt").request_types == [("qrCode", 67)]
    update_pin = read("graph-docs/beta/api/qrpin-updatepin.md")
    assert (update_pin.request_types, update_pin.request_body_line) == ([], 59)
    rendered = read("seeds/001_e16b2302f2791361.txt")
    assert (rendered.request_types, rendered.request_body_line) == ([], 50)
