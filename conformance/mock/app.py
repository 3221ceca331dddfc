"""The reference mock as an ASGI app (Starlette): routing, Graph's envelope and headers, knobs.

Paths are matched case-insensitively, as Graph matches them: ``/beta`` and ``/v1.0``, then
``/me`` or ``/users/{id or UPN}`` + ``/authentication/qrCodePinMethod[/standardQRCode |
/temporaryQRCode | /pin | /pin/updatePin]``, and the policy under ``/policies/...``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.config import DEFAULT_USER
from conformance.mock.state import GraphError, Store, render_time

LOG = logging.getLogger("graph_conformance.mock")
VERSIONS = {"beta": "beta", "v1.0": "v1.0"}
CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
POLICY_PATH = ["policies", "authenticationmethodspolicy", "authenticationmethodconfigurations", "qrcodepin"]
POLICY_IDS = {"beta": "QRCodePin", "v1.0": "qrCodePin"}  # each version's pages (DECISIONS.md)
KINDS = {"standardqrcode": "standardQRCode", "temporaryqrcode": "temporaryQRCode"}


@dataclass
class MockOptions:
    """Knobs for tests of the suite itself; all off by default."""

    throttle: list[str] = field(default_factory=list)  # answer 429 with these Retry-After values first
    extra: dict[str, Any] = field(default_factory=dict)  # undocumented members added to every entity
    clock: datetime | None = None  # a fixed "now"
    me_user: str = DEFAULT_USER  # whom /me means
    token: str | None = None  # the only bearer token accepted (None: any non-empty one)


class Reply(Exception):
    """A finished answer, raised from deep in a handler."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _json(request_id: str, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=status, headers={"request-id": request_id, **(headers or {})})
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"request-id": request_id, **(headers or {})},
    )


def _error(error: GraphError, request: Request, request_id: str) -> Response:
    inner = {
        "date": render_time(datetime.now(UTC)),
        "request-id": request_id,
        "client-request-id": request.headers.get("client-request-id", request_id),
    }
    body = {"error": {"code": error.code, "message": error.message, "innerError": inner}}
    return _json(request_id, error.status, body)


def create_app(options: MockOptions | None = None) -> Starlette:
    options = options or MockOptions()
    fixed = options.clock
    store = Store(clock=(lambda: fixed) if fixed is not None else (lambda: datetime.now(UTC)))
    pending_throttle = list(options.throttle)

    async def body_of(request: Request) -> Any:
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None

    def entity(body: dict[str, Any]) -> dict[str, Any]:
        return {**body, **options.extra}

    def allow(method: str, allowed: tuple[str, ...]) -> None:
        if method not in allowed:
            raise GraphError(405, "MethodNotAllowed", f"{method} is not supported here; use {', '.join(allowed)}.")

    async def handle(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        try:
            response = await dispatch(request, request_id)
        except GraphError as error:
            response = _error(error, request, request_id)
        except Reply as reply:
            response = reply.response
        except Exception:  # a bug in the mock: answer like Graph would, and log it
            LOG.exception("unexpected error for %s %s", request.method, request.url.path)
            response = _error(GraphError(500, "generalException", "An internal error occurred."), request, request_id)
        response.headers.setdefault("client-request-id", request.headers.get("client-request-id", request_id))
        LOG.info(
            "%s %s -> %s (%.1f ms, request-id %s)",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
            request_id,
        )
        return response

    async def dispatch(request: Request, request_id: str) -> Response:
        if pending_throttle:
            value = pending_throttle.pop(0)
            raise Reply(
                _json(
                    request_id,
                    429,
                    {"error": {"code": "TooManyRequests", "message": "Please retry again later."}},
                    {"Retry-After": value},
                )
            )
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token or (options.token is not None and token != options.token):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        segments = [unquote(s) for s in request.url.path.strip("/").split("/")]
        version = VERSIONS.get(segments[0].lower()) if segments else None
        if version is None:
            raise GraphError(400, "BadRequest", "Invalid version: use /beta or /v1.0.")
        rest = segments[1:]
        lower = [s.lower() for s in rest]
        if lower == POLICY_PATH:
            return await policy(request, request_id, version)
        if lower[:1] == ["me"]:
            user, upn, tail = options.me_user, options.me_user, lower[1:]
        elif lower[:1] == ["users"] and len(rest) >= 2:
            user, upn, tail = rest[1].lower(), rest[1], lower[2:]
        else:
            raise GraphError(404, "itemNotFound", f"Resource not found for the segment '{rest[0] if rest else ''}'.")
        if tail[:2] != ["authentication", "qrcodepinmethod"]:
            raise GraphError(404, "itemNotFound", "Resource not found.")
        return await method_resource(request, request_id, version, user, upn, tail[2:])

    async def method_resource(
        request: Request, request_id: str, version: str, user: str, upn: str, tail: list[str]
    ) -> Response:
        verb = request.method
        context = f"{request.base_url}{version}/$metadata#users('{upn}')/authentication/qrCodePinMethod"
        if not tail:
            allow(verb, ("GET", "PUT", "DELETE"))
            if verb == "GET":
                return _json(
                    request_id,
                    200,
                    {"@odata.context": f"{context}/$entity", **entity(store.get_method(user).body(version))},
                )
            if verb == "DELETE":
                store.delete_method(user)
                return _json(request_id, 204, None)
            method, image = store.create_method(user, upn, await body_of(request))
            location = f"{request.base_url}{version}/users/{upn}/authentication/qrCodePinMethod"
            body = entity(method.body(version, standard_image=image, reveal_pin=True))
            return _json(request_id, 201, {"@odata.context": f"{context}/$entity", **body}, {"Location": location})
        if tail[0] in KINDS and len(tail) == 1:
            kind = KINDS[tail[0]]
            allow(verb, ("GET", "PATCH", "DELETE"))
            if verb == "GET":
                return _json(request_id, 200, entity(store.get_code(user, kind).body()))
            if verb == "DELETE":
                store.delete_code(user, kind)
                return _json(request_id, 204, None)
            qr, qr_image, created = store.patch_code(user, upn, kind, await body_of(request))
            return _json(request_id, 201 if created else 200, entity(qr.body(qr_image)))
        if tail == ["pin"]:
            allow(verb, ("PATCH",))
            await request.body()  # any body, or none, is ignored: the PIN is always generated (DECISIONS.md 9)
            return _json(request_id, 201, entity(store.reset_pin(user).body(reveal=True, version=version)))
        if tail == ["pin", "updatepin"]:
            allow(verb, ("POST", "PATCH"))  # the SDK posts (an OData action); the pages say PATCH
            store.update_pin(user, await body_of(request))
            return _json(request_id, 204, None)
        raise GraphError(404, "itemNotFound", "Resource not found.")

    async def policy(request: Request, request_id: str, version: str) -> Response:
        allow(request.method, ("GET", "PATCH", "DELETE"))
        if request.method == "PATCH":
            store.update_policy(await body_of(request), require_odata_type=version == "v1.0")
            if version == "beta":
                return _json(request_id, 204, None)
        elif request.method == "DELETE":
            store.reset_policy()
            return _json(request_id, 204, None)
        body = {
            "@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethodConfiguration",
            "id": POLICY_IDS[version],
            **store.policy,
            "excludeTargets": [],
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}],
        }
        return _json(request_id, 200, entity(body))

    route: Callable[[Request], Awaitable[Response]] = handle
    methods = ["GET", "PUT", "PATCH", "POST", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", route, methods=methods)])
    app.state.store = store
    app.state.options = options
    return app
