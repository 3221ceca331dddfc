"""QR code images as Graph returns them: a real QR code (SVG) of realistic raw content.

``rawContent`` follows the shape the docs' decoded examples show, ``ms-qrpin:v1|<UPN>|<qrCode id>|
<secret>``; ``binaryValue`` is an SVG image of a QR code that encodes it. Both are base64.
"""

from __future__ import annotations

import base64
import io
import secrets
from typing import Any


def image_for(upn: str, code_id: str) -> dict[str, Any]:
    """The ``image`` of a new QR code ``code_id`` of ``upn``: an SVG QR code of fresh raw content."""
    import segno  # lazy: only a creating request needs it

    raw = f"ms-qrpin:v1|{upn}|{code_id}|{secrets.token_hex(16)}".encode()
    qr = segno.make_qr(raw, error="l", boost_error=False)
    svg = io.BytesIO()
    qr.save(svg, kind="svg", scale=3, xmldecl=False)
    return {
        "@odata.type": "#microsoft.graph.qrCodeImageDetails",
        "binaryValue": base64.b64encode(svg.getvalue()).decode("ascii"),
        "errorCorrectionLevel": "l",
        "rawContent": base64.b64encode(raw).decode("ascii"),
        "version": int(qr.version),
    }
