"""``graph-conformance metadata``: the reference mock agrees, the official excerpts and broken targets do not,
hostile documents and dead targets end in one line, and a recording replays offline without its token."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance import audit, contract, csdl, scrub
from conformance.errors import InputError
from conformance.mock import create_app
from conformance.mock.serve import BackgroundServer
from tests.helpers import COMMITTED, REPO, SHARED, free_port, graph_conformance

METADATA = SHARED / "graph-metadata"
DOCUMENTS = contract.read_documents(COMMITTED)
CANARY = "canary-bearer-token-5f3a9c"
NAV_BETA = "  authentication.qrCodePinMethod: agrees: navigates to qrCodePinAuthenticationMethod (line 82)"
NAV_V1 = "  authentication.qrCodePinMethod: differs: authentication does not navigate to qrCodePinMethod"


def serving(documents: dict[str, bytes]) -> Starlette:
    """An app that answers ``GET /{version}/$metadata`` with ``documents[version]``, as Graph does."""

    async def metadata(request: Request) -> Response:
        body = documents.get(request.path_params["version"])
        return Response(body, media_type="application/xml") if body is not None else Response(status_code=404)

    return Starlette(routes=[Route("/{version}/$metadata", metadata)])


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with BackgroundServer(create_app()) as server:
        yield server.url


def without_qr_types(document: bytes) -> bytes:
    """A metadata document with every qr* entity and complex type removed."""
    return re.sub(rb'<(EntityType|ComplexType) Name="qr\w*".*?</\1>', b"", document, flags=re.DOTALL)


# --- the command against real servers ---------------------------------------------------------------------------


def test_the_reference_mock_agrees_with_the_contract_in_both_versions(mock_url: str) -> None:
    result = graph_conformance("metadata", "--base-url", mock_url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "beta:" and "v1.0:" in lines
    assert not [line for line in lines if ": differs: " in line or ": metadata stricter: " in line]
    navigation = "  authentication.qrCodePinMethod: agrees: navigates to qrCodePinAuthenticationMethod (line "
    assert len([line for line in lines if line.startswith(navigation)]) == 2
    types = {name for version in ("beta", "v1.0") for name in contract.type_names(DOCUMENTS, version)} - {"graphError"}
    for name in types:
        assert any(line.startswith(f"  {name}: agrees: present (") for line in lines), name
    assert lines[-1].startswith("graph-conformance metadata: the metadata agrees with the contract (2 versions, ")


def test_a_target_lacking_the_qr_types_differs_and_names_them() -> None:
    stripped = without_qr_types((METADATA / "v1.0.xml").read_bytes())
    with BackgroundServer(serving({"v1.0": stripped})) as server:
        result = graph_conformance("metadata", "--base-url", server.url, "--api-version", "v1.0")
    assert result.returncode == 1, result.stdout + result.stderr
    stripped_types = {n for n in contract.type_names(DOCUMENTS, "v1.0") if n.startswith("qr")}
    assert stripped_types  # the contract's QR types, which the stripped document lacks
    for name in stripped_types:
        assert f"  {name}: differs: not in the metadata" in result.stdout.splitlines()
    assert NAV_V1 in result.stdout.splitlines()
    assert result.stdout.splitlines()[-1].startswith(
        "graph-conformance metadata: the metadata differs from the contract:"
    )


def test_the_official_excerpts_show_the_known_differences() -> None:
    documents = {version: (METADATA / f"{version}.xml").read_bytes() for version in ("beta", "v1.0")}
    with BackgroundServer(serving(documents)) as server:
        result = graph_conformance("metadata", "--base-url", server.url)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    beta, v1 = lines[1 : lines.index("v1.0:")], lines[lines.index("v1.0:") + 1 : -1]
    assert NAV_BETA in beta and NAV_V1 in v1  # beta navigates to the method; v1.0's official metadata does not
    stricter = '  qrPin.code: metadata stricter: the contract allows null, the metadata says Nullable="false" (line {})'
    assert stricter.format(207) in beta and stricter.format(91) in v1  # no difference: the service may be stricter
    assert "  qrPin: agrees: present (EntityType, line 206); " in "\n".join(beta)


HOSTILE = {
    "bomb": b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;">]>\n'
    b'<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">&lol1;</edmx:Edmx>\n',
    "external": b'<?xml version="1.0"?>\n<!DOCTYPE edmx [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    b'<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">&secret;</edmx:Edmx>\n',
    "truncated": (METADATA / "beta.xml").read_bytes()[:5000],
}
REFUSALS = {
    "bomb": r"2: \$metadata refused: a DOCTYPE declaration: a \$metadata document has none, and entities are refused",
    "external": r"2: \$metadata refused: a DOCTYPE declaration: a \$metadata document has none, and entities are refused",
    "truncated": r"\d+: \$metadata refused: the document ends early \(truncated\): .*",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_documents_end_in_one_line_and_exit_2(kind: str) -> None:
    with BackgroundServer(serving({"beta": HOSTILE[kind]})) as server:
        result = graph_conformance("metadata", "--base-url", server.url, "--api-version", "beta")
        url = re.escape(f"{server.url}/beta/$metadata")
    assert (result.returncode, result.stdout) == (2, "")
    assert re.fullmatch(f"graph-conformance: error: {url}:{REFUSALS[kind]}\n", result.stderr), result.stderr


def test_dead_targets_error_statuses_and_oversized_answers_exit_2(mock_url: str) -> None:
    port = free_port()
    dead = graph_conformance("metadata", "--base-url", f"http://127.0.0.1:{port}", "--timeout", "5")
    assert (dead.returncode, dead.stdout) == (2, "")
    assert dead.stderr == (
        f"graph-conformance: error: GET http://127.0.0.1:{port}/beta/$metadata: ConnectError: [Errno 111] Connection refused\n"
    )
    with BackgroundServer(serving({})) as server:
        url = server.url
        missing = graph_conformance("metadata", "--base-url", url, "--api-version", "v1.0")
    assert missing.returncode == 2
    assert (
        missing.stderr == f"graph-conformance: error: GET {url}/v1.0/$metadata: HTTP 404, not the $metadata document\n"
    )
    small = graph_conformance("metadata", "--base-url", mock_url, "--max-response-bytes", "1000")
    assert small.returncode == 2 and small.stderr.count("\n") == 1
    assert "over the limit of 1000 bytes (--max-response-bytes)" in small.stderr
    flag = graph_conformance("metadata", "--base-url", mock_url, "--api-version", "v2")
    assert flag.returncode == 2 and "invalid choice: 'v2'" in flag.stderr


def test_a_recording_replays_offline_with_the_same_output_and_no_token(mock_url: str, tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    recorded = graph_conformance(
        "metadata", "--base-url", mock_url, "--token", CANARY, "--record-mode", "once", "--cassette-dir", cassettes
    )
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert sorted(p.name for p in cassettes.iterdir()) == ["metadata--beta.yaml", "metadata--v1.0.yaml"]
    dead = f"http://127.0.0.1:{free_port()}"
    replayed = graph_conformance("metadata", "--base-url", dead, "--record-mode", "none", "--cassette-dir", cassettes)
    assert (replayed.returncode, replayed.stdout) == (0, recorded.stdout)
    for cassette in cassettes.iterdir():
        text = cassette.read_text()
        assert CANARY not in text and "https://graph.conformance.invalid/" in text
        assert text.count("Bearer") == text.count(scrub.BEARER_PLACEHOLDER) == 1  # the placeholder, only
    assert CANARY not in recorded.stdout + recorded.stderr
    v1 = cassettes / "metadata--v1.0.yaml"
    v1.write_text(v1.read_text().replace("/v1.0/$metadata", "/v1.0/$elsewhere"))
    live = graph_conformance("metadata", "--base-url", mock_url, "--record-mode", "none", "--cassette-dir", cassettes)
    assert live.returncode == 2  # a live target that would answer is not asked: the replay is offline
    assert (
        live.stderr
        == f"graph-conformance: error: cassette {v1} is not a readable cassette: holds no answer for GET /v1.0/$metadata\n"
    )
    v1.unlink()
    gone = graph_conformance("metadata", "--base-url", dead, "--record-mode", "none", "--cassette-dir", cassettes)
    assert gone.returncode == 2
    assert gone.stderr.endswith(
        f"cassette {cassettes}/metadata--v1.0.yaml is not a readable cassette: no such file "
        "(record it first with --record-mode once)\n"
    )


def test_metadata_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\nfrom conformance import cli\ntry:\n    cli.main(['metadata', '--help'])\nexcept SystemExit:\n"
        "    pass\nprint(sorted(m for m in ('msal', 'httpx', 'jsonschema', 'yaml', 'vcr', 'starlette') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert "--max-response-bytes MAX_RESPONSE_BYTES" in result.stdout and "--record-mode" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]"


# --- the audit itself, on small documents: each check fails on a broken target ----------------------------------


def model_document(types: str) -> str:
    """A CSDL ``Schema`` whose body is ``types``."""
    return f'<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="microsoft.graph" Alias="graph">{types}</Schema>'


def model_of(types: str) -> csdl.CsdlModel:
    """A model from the ``Schema`` body ``types``."""
    return csdl.read([model_document(types).encode()], "test.xml")


CONTRACT = {
    "beta/thing.json": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "x-key-property": "id",
        "properties": {
            "@odata.type": {"type": "string"},
            "id": {"type": "string", "x-graph-type": "String"},
            "size": {"type": ["integer", "null"], "x-graph-type": "Int32"},
            "when": {"type": ["string", "null"], "format": "date-time", "x-graph-type": "DateTimeOffset"},
            "tags": {
                "type": "array",  # a collection: never null, as derive writes it
                "items": {"type": "object"},
                "x-graph-type": "excludeTarget collection",
            },
            "seenOnce": {"x-example-only": True},
        },
    },
    "beta/graphError.json": {"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {}},
}
AUTHENTICATION = (
    '<EntityType Name="authentication"><NavigationProperty Name="qrCodePinMethod" '
    'Type="graph.qrCodePinAuthenticationMethod" ContainsTarget="true"/></EntityType>'
)


def findings(types: str) -> list[str]:
    return [f.text() for f in audit.audit(model_of(types + AUTHENTICATION), CONTRACT, "beta")]


def test_agreeing_metadata_with_inherited_properties() -> None:
    found = findings(
        '<EntityType Name="base"><Property Name="id" Type="Edm.String" Nullable="false"/></EntityType>'
        '<EntityType Name="thing" BaseType="graph.base"><Property Name="size" Type="Edm.Int32"/>'
        '<Property Name="when" Type="Edm.DateTimeOffset" Nullable="false"/>'
        '<Property Name="tags" Type="Collection(graph.excludeTarget)"/></EntityType>'
    )
    assert found == [
        "thing: agrees: present (EntityType, line 1); 4 of the contract's 4 properties agree",
        'thing.when: metadata stricter: the contract allows null, the metadata says Nullable="false" (line 1)',
        "authentication.qrCodePinMethod: agrees: navigates to qrCodePinAuthenticationMethod (line 1)",
    ]


def test_each_kind_of_difference_is_found() -> None:
    found = findings(
        '<EntityType Name="thing" BaseType="graph.gone"><Property Name="id" Type="Edm.String"/>'
        '<Property Name="size" Type="Edm.String"/><Property Name="extra" Type="Edm.Binary"/>'
        '<Property Name="tags" Type="graph.excludeTarget"/></EntityType>'
    )
    assert found == [
        "thing: agrees: present (EntityType, line 1); 0 of the contract's 4 properties agree",
        "thing: differs: its base type gone is not in the metadata",
        "thing.extra: differs: in the metadata (base64 string, line 1), not in the contract",
        "thing.id: differs: the contract requires a value, the metadata allows null (line 1)",
        "thing.size: differs: the contract says integer, the metadata string (line 1)",
        "thing.tags: differs: the contract says array of excludeTarget, the metadata excludeTarget (line 1)",
        "thing.tags: differs: the contract requires a value, the metadata allows null (line 1)",
        "thing.when: differs: in the contract (string/date-time), not in the metadata",
        "authentication.qrCodePinMethod: agrees: navigates to qrCodePinAuthenticationMethod (line 1)",
    ]
    wrong_navigation = audit.audit(
        model_of('<EntityType Name="authentication"><Property Name="qrCodePinMethod" Type="Edm.String"/></EntityType>'),
        CONTRACT,
        "beta",
    )
    assert [f.text() for f in wrong_navigation] == [
        "thing: differs: not in the metadata",
        "authentication.qrCodePinMethod: differs: a structural property of string, not a single "
        "qrCodePinAuthenticationMethod (line 1)",
    ]
    assert audit.summary(wrong_navigation, 1) == (
        "the metadata differs from the contract: 2 differences (1 version, 1 types; 0 properties where the metadata is "
        "stricter)"
    )


def test_only_the_needed_types_and_their_bases_are_kept_in_as_few_passes_as_the_chains_need() -> None:
    data = (METADATA / "beta.xml").read_bytes()
    passes: list[int] = []

    def again() -> list[bytes]:
        passes.append(1)
        return [data]

    model = audit.read_needed([data], again, "beta.xml", DOCUMENTS, "beta")
    contract_types = set(contract.type_names(DOCUMENTS, "beta")) - {"graphError"}
    bases = {"authenticationMethod", "authenticationMethodConfiguration", "entity"}  # of the contract's types
    assert sorted(model.types) == sorted(contract_types | bases | {"authentication"})
    assert "authenticationMethodsPolicy" not in model.types  # in the document, but nothing needs it
    assert len(passes) == 1  # every base of the contract's types is one level away from one already kept
    whole = csdl.read([data], "beta.xml")
    assert audit.audit(model, DOCUMENTS, "beta") == audit.audit(whole, DOCUMENTS, "beta")


def test_a_base_chain_deeper_than_the_pass_limit_is_refused() -> None:
    chain = "".join(f'<EntityType Name="t{i}" BaseType="graph.t{i + 1}"/>' for i in range(audit.MAX_BASE_PASSES + 2))
    document = model_document(f'<EntityType Name="thing" BaseType="graph.t0"/>{chain}').encode()
    with pytest.raises(InputError) as refused:
        audit.read_needed([document], lambda: [document], "deep.xml", CONTRACT, "beta")
    assert str(refused.value) == "deep.xml: $metadata refused: base types chained more than 8 deep"


def test_a_collection_is_never_null_so_a_contract_array_without_null_agrees_with_it() -> None:
    model = model_of(
        '<EntityType Name="thing"><Property Name="id" Type="Edm.String" Nullable="false"/>'
        '<Property Name="size" Type="Edm.Int32"/><Property Name="when" Type="Edm.DateTimeOffset"/>'
        '<Property Name="tags" Type="Collection(graph.excludeTarget)"/></EntityType>' + AUTHENTICATION
    )
    found = [f.text() for f in audit.audit(model, CONTRACT, "beta")]
    assert found[0] == "thing: agrees: present (EntityType, line 1); 4 of the contract's 4 properties agree"
    assert not any(line.startswith("thing.tags") for line in found)  # no "metadata allows null" for a collection
