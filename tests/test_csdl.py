"""CSDL $metadata as untrusted input: the excerpts read with their facts, hostile documents refused."""

from __future__ import annotations

import pytest

from conformance import csdl
from conformance.errors import InputError
from tests.helpers import SHARED

METADATA = SHARED / "graph-metadata"


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_the_beta_excerpt_reads_types_keys_nullability_navigation_actions_and_capabilities() -> None:
    model = csdl.read_file(METADATA / "beta.xml")
    pin = model.types["qrPin"]
    assert (pin.base, pin.properties["code"].type, pin.properties["code"].nullable) == ("entity", "Edm.String", False)
    assert pin.properties["createdDateTime"].nullable and model.types["entity"].key == ["id"]
    method = model.types["qrCodePinAuthenticationMethod"]
    assert {name: (p.type, p.navigation, p.contains_target) for name, p in method.properties.items()} == {
        "pin": ("qrPin", True, True),
        "standardQRCode": ("qrCode", True, True),
        "temporaryQRCode": ("qrCode", True, True),
    }
    targets = model.types["qrCodePinAuthenticationMethodConfiguration"].properties["includeTargets"]
    assert (targets.type, targets.collection) == ("authenticationMethodTarget", True)
    assert model.types["authentication"].properties["qrCodePinMethod"].collection is False
    assert model.enums["errorCorrectionLevel"].members == {"l": 1, "m": 2, "q": 3, "h": 4, "unknownFutureValue": 5}
    (update_pin,) = model.actions
    assert (update_pin.name, update_pin.binding_type, update_pin.return_type) == ("updatePin", "qrPin", None)
    assert list(update_pin.parameters)[1:] == ["currentPin", "newPin"]
    terms = {t for t, _ in model.annotations["microsoft.graph.GraphService/users/authentication/qrCodePinMethod/pin"]}
    assert "Org.OData.Capabilities.V1.UpdateRestrictions" in terms
    assert pin.line > 1 and pin.properties["code"].line > pin.line  # every fact can be cited


def test_v1_has_no_qr_navigation_and_no_update_pin_action() -> None:
    model = csdl.read_file(METADATA / "v1.0.xml")
    assert "qrCodePinMethod" not in model.types["authentication"].properties
    assert model.actions == [] and "qrPin" in model.types


def test_chunk_boundaries_do_not_change_what_is_read() -> None:
    data = (METADATA / "beta.xml").read_bytes()
    whole = csdl.read([data], "beta.xml")
    assert csdl.read(pieces(data, 1), "beta.xml") == whole == csdl.read(pieces(data, 4093), "beta.xml")


def test_keep_narrows_what_is_kept() -> None:
    model = csdl.read_file(METADATA / "beta.xml", keep=lambda name: name.startswith("qr"))
    assert sorted(model.types) == [
        "qrCode",
        "qrCodeImageDetails",
        "qrCodePinAuthenticationMethod",
        "qrCodePinAuthenticationMethodConfiguration",
        "qrPin",
    ]
    assert [a.name for a in model.actions] == ["updatePin"]  # bound to a kept type


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">&lol2;</edmx:Edmx>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE edmx [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">&secret;</edmx:Edmx>
"""
PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE edmx [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"/>
"""


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            BOMB,
            "bomb.xml:2: $metadata refused: a DOCTYPE declaration: a $metadata document has none, and entities are refused",
        ),
        (
            EXTERNAL,
            "bomb.xml:2: $metadata refused: a DOCTYPE declaration: a $metadata document has none, and entities are refused",
        ),
        (
            PARAMETER,
            "bomb.xml:2: $metadata refused: a DOCTYPE declaration: a $metadata document has none, and entities are refused",
        ),
        (b"<a>" * 100 + b"</a>" * 100, "bomb.xml:1: $metadata refused: elements nested more than 64 deep"),
        (
            b"<Schema Namespace='x'><EnumType Name='e'><Member Name='m' Value='one'/></EnumType></Schema>",
            "bomb.xml:1: $metadata refused: enum member 'm' has no whole-number value",
        ),
        (b"<edmx:Edmx xmlns:edmx='x'/>", "bomb.xml:1: $metadata refused: no <Schema> element: not a CSDL document"),
        (b"not xml at all", "bomb.xml:1: $metadata refused: not well-formed XML: syntax error (column 1)"),
    ],
)
def test_hostile_documents_are_refused_with_file_line_and_reason(document: bytes, message: str) -> None:
    with pytest.raises(InputError) as refused:
        csdl.read(pieces(document, 16), "bomb.xml")
    assert str(refused.value) == message


def test_a_truncated_document_and_an_oversized_one_are_refused() -> None:
    data = (METADATA / "beta.xml").read_bytes()
    with pytest.raises(InputError, match=r"^beta\.xml:\d+: \$metadata refused: the document ends early \(truncated\)"):
        csdl.read([data[: len(data) // 2]], "beta.xml")
    with pytest.raises(InputError, match=r"larger than the limit of 1000 bytes"):
        csdl.read(pieces(data, 512), "beta.xml", max_bytes=1000)
