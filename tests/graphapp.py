"""A small ASGI app written for the engine's tests: just enough of the QR + PIN API to record,
replay, throttle and authenticate against. (The project's reference mock is a separate product.)"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.mock.serve import BackgroundServer

METHOD = "/{version}/users/{user}/authentication/qrCodePinMethod"


def error(status: int, code: str, request: Request) -> JSONResponse:
    """An answer in Graph's error envelope with ``code`` as code and message."""
    inner = {
        "request-id": str(uuid.uuid4()),
        "client-request-id": request.headers.get("client-request-id", ""),
        "date": "2026-11-22T00:00:00",
    }
    return JSONResponse({"error": {"code": code, "message": code, "innerError": inner}}, status_code=status)


def make_app(
    *,
    pin: str = "12345678",
    image: bytes = b"<svg/>",
    token: str | None = None,
    throttle: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    leak_pin: bool = False,
    gzip: bool = False,
) -> Starlette:
    """``token``: the only bearer accepted (None: any). ``throttle``: Retry-After values to answer 429 with
    first. ``extra``: undocumented members added to the method. ``leak_pin``: GET returns the PIN (a bug)."""
    state: dict[str, Any] = {}
    pending = list(throttle or [])

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and (token is None or header == f"Bearer {token}")

    async def method(request: Request) -> Response:
        if pending:
            return Response(status_code=429, headers={"Retry-After": pending.pop(0)})
        if not authorised(request):
            return error(401, "InvalidAuthenticationToken", request)
        user = request.path_params["user"]
        if request.method == "GET":
            if user not in state:
                return error(404, "itemNotFound", request)
            pin_shown = state[user]["pin"] if leak_pin else {**state[user]["pin"], "code": None}
            return JSONResponse({**state[user], "pin": pin_shown}, headers={"request-id": str(uuid.uuid4())})
        if request.method == "DELETE":
            return Response(status_code=204 if state.pop(user, None) else 404)
        body = json.loads(await request.body())
        if user in state:
            return error(400, "tooManyQRCodePinMethod", request)
        state[user] = {
            "id": str(uuid.uuid4()),
            "standardQRCode": {"id": str(uuid.uuid4()), **body["standardQRCode"], "image": None},
            "pin": {"code": body.get("pin", {}).get("code", pin), "forceChangePinNextSignIn": True},
            **(extra or {}),
        }
        created = json.loads(json.dumps(state[user]))
        created["standardQRCode"]["image"] = {
            "binaryValue": base64.b64encode(image).decode(),
            "rawContent": base64.b64encode(b"ms-qrpin:v1|" + image).decode(),
            "version": 1,
            "errorCorrectionLevel": "l",
        }
        return JSONResponse(created, status_code=201, headers={"request-id": str(uuid.uuid4())})

    app = Starlette(routes=[Route(METHOD, method, methods=["GET", "PUT", "DELETE"])])
    if gzip:
        from starlette.middleware.gzip import GZipMiddleware

        app.add_middleware(GZipMiddleware, minimum_size=1)
    return app


Server = BackgroundServer  # the product's own loopback server, in a thread
