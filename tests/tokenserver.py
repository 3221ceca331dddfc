"""A local OAuth authority for the auth tests: OpenID discovery, client credentials, device code.

It serves HTTPS on 127.0.0.1 with a self-signed certificate, so the real msal library talks to it
exactly as it talks to Microsoft Entra ID."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.helpers import one_day_certificate


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A key and a certificate for 127.0.0.1, written to ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        one_day_certificate(name, name, key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def make_authority(*, client_id: str, secret: str, token: str, calls: list[dict[str, Any]]) -> Starlette:
    """``calls`` records every token request (form fields) so tests can count and inspect them."""

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}/{request.path_params['tenant']}"

    async def discovery(request: Request) -> JSONResponse:
        root = base(request)
        return JSONResponse(
            {
                "issuer": f"{root}/v2.0",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            }
        )

    async def devicecode(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "device_code": "dc-1",
                "user_code": "QRPIN-42",
                "verification_uri": "https://127.0.0.1/device",
                "expires_in": 60,
                "interval": 1,
                "message": "To sign in, enter QRPIN-42 at https://127.0.0.1/device",
            }
        )

    async def token_endpoint(request: Request) -> JSONResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        calls.append(form)
        grant = form.get("grant_type")
        good_client = form.get("client_id") == client_id
        if (
            grant == "client_credentials"
            and good_client
            and (form.get("client_secret") == secret or "client_assertion" in form)
        ):
            return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
        if (
            grant == "urn:ietf:params:oauth:grant-type:device_code"
            and good_client
            and form.get("device_code") == "dc-1"
        ):
            return JSONResponse(
                {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": form.get("scope", "")}
            )
        return JSONResponse(
            {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."},
            status_code=401,
        )

    return Starlette(
        routes=[
            Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery),
            Route("/{tenant}/oauth2/v2.0/devicecode", devicecode, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/token", token_endpoint, methods=["POST"]),
        ]
    )
