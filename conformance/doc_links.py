"""Where a cited doc page can be read publicly, at the cited line.

The pages under ``../shared`` are byte-for-byte copies of files in two public repositories, read at
the commits their provenance tables name (``graph-docs/README.md``, ``graph-docs-base/README.md``,
``entra-docs/README.md``). A citation ``page:line`` of such a page links to that file at that commit,
as source (``?plain=1``, so GitHub shows lines rather than rendering the Markdown), at that line: the
commit is pinned, so the line is the one cited whatever the repository has since become.

Pages without a known source get no link: the v1.0 drafts (their repository path was inferred, and no
commit holds them), the base pages whose commit was not named, the seeds that are renderings or older
versions, and the CSDL excerpts in ``graph-metadata/`` (their lines are not the source file's). Seed
002 is identical to ``graph-docs/beta/api/qrcode-update.md`` and links where it does.
"""

from __future__ import annotations

import re

GRAPH_DOCS = "microsoftgraph/microsoft-graph-docs-contrib"
ENTRA_DOCS = "MicrosoftDocs/entra-docs"

# page as cited -> the commit of its public source (the provenance tables' "commit" column)
_COMMITS = """\
graph-docs/v1.0/api/qrcode-get.md 719af54944bf1c8a82d3c8c1141f410965d15a1c
graph-docs/v1.0/api/qrcode-update.md 3befe456f259accbb0c5fae0c65130e006866e1b
graph-docs/v1.0/api/qrcode-delete.md 0f04ee0298ebd9d55b3f844e29d4b413128967ed
graph-docs/v1.0/api/authentication-put-qrcodepinmethod.md 70f8ded9e9a46bdaaa7ed4efab2893384d97f5d9
graph-docs/v1.0/api/qrcodepinauthenticationmethod-get.md dec7a8dfe61b1217051d87c3f7e700615cc0b991
graph-docs/v1.0/api/qrcodepinauthenticationmethod-delete.md 255073e9b97b2977cdb31c3f3e111162116e3452
graph-docs/v1.0/api/qrpin-update.md 716f8ba0be643119d8f15a3bc423b8d819329d2e
graph-docs/v1.0/api/qrpin-updatepin.md e4afd42761b1e53dd98498d992d508b405c8ac8c
graph-docs/v1.0/api/qrcodepinauthenticationmethodconfiguration-get.md 5ef2bd9b69347df66b8ead4296877b47d93de4f3
graph-docs/v1.0/api/qrcodepinauthenticationmethodconfiguration-update.md dec7a8dfe61b1217051d87c3f7e700615cc0b991
graph-docs/v1.0/api/qrcodepinauthenticationmethodconfiguration-delete.md 70f8ded9e9a46bdaaa7ed4efab2893384d97f5d9
graph-docs/v1.0/resources/qrcode.md be79acef4d4bbf50a6a112eb9f9f38b2cc2b507f
graph-docs/v1.0/resources/qrpin.md 3befe456f259accbb0c5fae0c65130e006866e1b
graph-docs/v1.0/resources/qrcodeimagedetails.md 3befe456f259accbb0c5fae0c65130e006866e1b
graph-docs/v1.0/resources/qrcodepinauthenticationmethod.md 719af54944bf1c8a82d3c8c1141f410965d15a1c
graph-docs/v1.0/resources/qrcodepinauthenticationmethodconfiguration.md 719af54944bf1c8a82d3c8c1141f410965d15a1c
graph-docs/beta/api/authentication-put-qrcodepinmethod.md 8f73a1c78d52ff66c21ddcc4452fe98cfd910c2e
graph-docs/beta/api/authentication-delete-qrcodepinmethod.md 293254bb0527e70cb033a3beb7df252a7e9d36f1
graph-docs/beta/api/qrcodepinauthenticationmethod-get.md f5255d05f9e795b0a6122fb619e32c05d181f025
graph-docs/beta/api/qrcode-get.md 00ac519a4df94ee7b22887e1167fecee3b16e0a3
graph-docs/beta/api/qrcode-update.md 293254bb0527e70cb033a3beb7df252a7e9d36f1
graph-docs/beta/api/qrcode-delete.md 51e737670ff0822c30d5817897eb6de90befdeba
graph-docs/beta/api/qrpin-update.md b28c1dfb3d276f9b9b6f5a5fd37d97d0c0805879
graph-docs/beta/api/qrpin-updatepin.md 4b4cbd457cdf0a30083fc796186fa9ccdb2ec07f
graph-docs/beta/api/qrcodepinauthenticationmethodconfiguration-get.md e098e71792789a4231802ecce53d99137e4b1163
graph-docs/beta/api/qrcodepinauthenticationmethodconfiguration-update.md b28c1dfb3d276f9b9b6f5a5fd37d97d0c0805879
graph-docs/beta/api/qrcodepinauthenticationmethodconfiguration-delete.md 41f4f85bcc3c956df82d95c602a3d8a6636d1253
graph-docs/beta/resources/qrcodepinauthenticationmethod.md add7e42294533474a374860f069c063db7ca1bd1
graph-docs/beta/resources/qrcode.md 293254bb0527e70cb033a3beb7df252a7e9d36f1
graph-docs/beta/resources/qrpin.md 4ef3cb9392a2906278550f585e6634dee75c343a
graph-docs/beta/resources/qrcodeimagedetails.md e783279304b97eb89fe0110d23b65faa18c94ec9
graph-docs/beta/resources/qrcodepinauthenticationmethodconfiguration.md 392b0de8051e78b6421d10d5f1cedff4287b3669
graph-docs/beta/drafts/qrcodepinauthenticationmethod-patch-standardqrcode.md 880f305e53b924d3657c6d513d4e3d4d312c0fe5
graph-docs/beta/drafts/qrcodepinauthenticationmethod-patch-temporaryqrcode.md c7ca8e267dae05a5e95c5b51f7c5356abb96ee04
graph-docs/beta/drafts/qrcodepinauthenticationmethod-patch-pin.md 880f305e53b924d3657c6d513d4e3d4d312c0fe5
graph-docs/beta/drafts/qrcodepinauthenticationmethod-post-standardqrcode.md 6565a1833a189926f6c2c21407c1c4c5c17a903c
graph-docs/beta/drafts/qrcodepinauthenticationmethod-delete-standardqrcode.md 6565a1833a189926f6c2c21407c1c4c5c17a903c
graph-docs-base/v1.0/resources/entity.md 07d9bf6f3acff67f1db796f5eb443646bbcc657d
graph-docs-base/v1.0/resources/authenticationmethod.md be79acef4d4bbf50a6a112eb9f9f38b2cc2b507f
graph-docs-base/v1.0/resources/authenticationmethodtarget.md 09455a65abde17103c17fc70605c4c8553f01978
graph-docs-base/v1.0/resources/excludetarget.md 41f4f85bcc3c956df82d95c602a3d8a6636d1253
graph-docs-base/v1.0/resources/authenticationmethodspolicy.md ba6c32256252f1653ca4e132a78044f88a0bc851
graph-docs-base/beta/resources/entity.md 03ca8758970702fd8da98bb0b41d15145c2716ef
graph-docs-base/beta/resources/authenticationmethod.md 15afa84e91a87ef51281f3bbc32373d19f9db431
graph-docs-base/beta/resources/authenticationmethodspolicy.md 01ca6ec31c70556a3d038a09989a92bc6e5dad91
graph-docs-base/beta/resources/authentication.md 41f4f85bcc3c956df82d95c602a3d8a6636d1253
entra-docs/concept-authentication-qr-code.md 07cd7acd04259449a361903c29dbb8b442402a88
entra-docs/how-to-authentication-qr-code.md 1e3740ee273303a888b38fb3c2cdf0aee69c0b0f
"""
COMMITS: dict[str, str] = dict(line.split() for line in _COMMITS.splitlines())
SAME_AS = {"seeds/002_ceb8d830ce774453.txt": "graph-docs/beta/api/qrcode-update.md"}  # identical files
_CITATION = re.compile(r"(?P<page>[^:\s]+):(?P<line>[1-9][0-9]{0,6})")


def source(page: str) -> tuple[str, str, str] | None:
    """The public source of a cited page, as (repository, path in it, commit), or None when none is known."""
    page = SAME_AS.get(page, page)
    commit = COMMITS.get(page)
    if commit is None:
        return None
    parts = page.split("/")
    if parts[0] == "entra-docs":
        return ENTRA_DOCS, f"docs/identity/authentication/{parts[-1]}", commit
    version, folder = parts[1], parts[2]
    return GRAPH_DOCS, f"api-reference/{version}/{'api' if folder == 'drafts' else folder}/{parts[-1]}", commit


def url(citation: str) -> str | None:
    """The public URL of a citation ``page:line`` (the page's source at its commit, at that line), or None."""
    match = _CITATION.fullmatch(citation.strip())
    if match is None:
        return None
    found = source(match["page"])
    if found is None:
        return None
    repository, path, commit = found
    return f"https://github.com/{repository}/blob/{commit}/{path}?plain=1#L{match['line']}"
