"""The reference mock as an ASGI app (Starlette): :class:`GraphMock`'s routing, Graph's envelope and
headers, knobs; the rules and the state's class come in with :class:`MockOptions`.

Paths are matched case-insensitively, as Graph matches them: ``/beta`` and ``/v1.0``, then
``/$metadata`` (no token needed, as on Graph; the contract as CSDL), ``/me`` or ``/users/{id or
UPN}`` + ``/authentication/qrCodePinMethod[/standardQRCode | /temporaryQRCode | /pin |
/pin/updatePin]``, and the policy under ``/policies/...``. An id and a UPN of the options' directory
reach the same user (:meth:`GraphMock.user`).
A request body over :data:`MAX_BODY_BYTES` gets ``413`` (counted as it streams in), and JSON that
cannot be read or nests deeper than ``state.MAX_JSON_DEPTH`` gets ``400 BadRequest``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from conformance.config import DEFAULT_USER, DEFAULT_USER_UPN
from conformance.contract import default_schema_dir, read_documents
from conformance.mock.metadata import metadata_document
from conformance.mock.rules import DOCUMENTED_RULES, Rules
from conformance.mock.state import GraphError, Store, graph_time, parse_json
from conformance.versions import Version

LOG = logging.getLogger("graph_conformance.mock")
CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
POLICY_PATH = ["policies", "authenticationmethodspolicy", "authenticationmethodconfigurations", "qrcodepin"]
POLICY_IDS = {Version.BETA: "QRCodePin", Version.V1: "qrCodePin"}  # each version's pages (DECISIONS.md)
KINDS = {"standardqrcode": "standardQRCode", "temporaryqrcode": "temporaryQRCode"}
MAX_BODY_BYTES = 1024 * 1024  # a larger request body is refused with 413 while it streams in
LINGER_BYTES = 4 * 1024 * 1024  # after a 413, at most this much more of the body is read and dropped ...
LINGER_SECONDS = 1.0  # ... for at most this long, before the connection is closed
HTTP_METHODS = ["GET", "PUT", "PATCH", "POST", "DELETE", "HEAD", "OPTIONS"]  # the verbs the route accepts


@dataclass
class MockOptions:
    """Knobs for tests of the suite itself, all off by default, and the rules the mock enforces."""

    throttle: list[str] = field(default_factory=list)  # answer 429 with these Retry-After values first
    extra: dict[str, Any] = field(default_factory=dict)  # undocumented members added to every entity
    clock: datetime | None = None  # a fixed "now"
    me_user: str = DEFAULT_USER  # whom /me means (an object id or a userPrincipalName)
    # the users the mock knows, object id -> userPrincipalName: either key reaches the same user
    directory: dict[str, str] = field(default_factory=lambda: {DEFAULT_USER: DEFAULT_USER_UPN})
    token: str | None = None  # the only bearer token accepted (None: any non-empty one)
    rules: Rules = DOCUMENTED_RULES  # what the mock enforces: a variant of the mock passes others
    store_type: type[Store] = Store  # the state's class: a variant of the mock passes a subclass that breaks a rule


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
        "date": graph_time(datetime.now(UTC)),
        "request-id": request_id,
        "client-request-id": request.headers.get("client-request-id", request_id),
    }
    body = {"error": {"code": error.code, "message": error.message, "innerError": inner}}
    return _json(request_id, error.status, body)


class BodyTooLarge(GraphError):
    """``413``: the request body passes :data:`MAX_BODY_BYTES`; ``ended`` says whether all of it arrived."""

    def __init__(self, ended: bool) -> None:
        super().__init__(413, "RequestEntityTooLarge", f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        self.ended = ended


async def read_body(request: Request) -> bytes:
    """The request body, refused with :class:`BodyTooLarge` as soon as it is known to pass the limit.

    A declared ``Content-Length`` over the limit is refused before any of the body is read; a
    chunked body is counted as it streams in and refused at the chunk that passes the limit. Nothing
    over the limit is ever held in memory.
    """
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and (len(declared) > 12 or int(declared) > MAX_BODY_BYTES):
        raise BodyTooLarge(ended=False)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            raise GraphError(400, "BadRequest", "The client closed the connection before the body ended.")
        chunk: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge(ended=not more)
        chunks.append(chunk)
        if not more:
            return b"".join(chunks)


class LingeringClose(Response):
    """An answer given while the client is still sending its body: sent whole, then the connection closes gently.

    Closing a connection with unread data in it resets it, and a reset can destroy the answer before
    the client reads it. So the answer goes out first, then at most :data:`LINGER_BYTES` more of the
    body are read and dropped (for at most :data:`LINGER_SECONDS`), and only then is the connection
    closed (``Connection: close``): a client still sending by then sees a reset after the answer.
    """

    def __init__(self, answer: Response, drain: bool) -> None:
        super().__init__(answer.body, answer.status_code, headers={**answer.headers, "connection": "close"})
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        if self.drain:
            await _linger(receive)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _linger(receive: Receive) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + LINGER_SECONDS
    dropped = 0
    while dropped <= LINGER_BYTES and (remaining := deadline - loop.time()) > 0:
        try:
            message = await asyncio.wait_for(receive(), remaining)
        except TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


class GraphMock:
    """The reference mock: one :class:`Store` under the options' rules, the knobs, and the handlers.

    :attr:`asgi` is the Starlette app that routes every request to :meth:`handle`; its ``state.store``
    and ``state.options`` are this mock's.
    """

    def __init__(self, options: MockOptions | None = None) -> None:
        self.options = options or MockOptions()
        fixed = self.options.clock
        self.store = self.options.store_type(
            rules=self.options.rules,
            clock=(lambda: fixed) if fixed is not None else (lambda: datetime.now(UTC)),
        )
        self.pending_throttle = list(self.options.throttle)
        self.metadata: dict[Version, bytes] = {}  # each version's $metadata, built on first request
        self.asgi = Starlette(routes=[Route("/{path:path}", self.handle, methods=HTTP_METHODS)])
        self.asgi.state.store = self.store
        self.asgi.state.options = self.options

    async def handle(self, request: Request) -> Response:
        """Answer one request: Graph's envelope for every error, ``413`` while the body streams in, one log line."""
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        try:
            response = await self._dispatch(request, request_id, await read_body(request))
        except BodyTooLarge as error:
            response = _error(error, request, request_id)
            if not error.ended:  # the rest of the body is not read: the connection cannot be reused
                expecting = request.headers.get("expect", "").lower() == "100-continue"  # it waits: nothing to drop
                response = LingeringClose(response, drain=not expecting)
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

    def _entity(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, **self.options.extra}

    async def _dispatch(self, request: Request, request_id: str, raw: bytes) -> Response:
        if self.pending_throttle:
            value = self.pending_throttle.pop(0)
            raise Reply(
                _json(
                    request_id,
                    429,
                    {"error": {"code": "TooManyRequests", "message": "Please retry again later."}},
                    {"Retry-After": value},
                )
            )
        metadata = self._metadata(request) if request.method == "GET" else None
        if metadata is not None:  # no token needed, as on Graph
            return Response(metadata, media_type="application/xml", headers={"request-id": request_id})
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token or (self.options.token is not None and token != self.options.token):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        segments = [unquote(s) for s in request.url.path.strip("/").split("/")]
        version = Version.of_segment(segments[0]) if segments else None
        if version is None:
            raise GraphError(400, "BadRequest", "Invalid version: use /beta or /v1.0.")
        rest = segments[1:]
        lower = [s.lower() for s in rest]
        if lower == POLICY_PATH:
            return self._policy(request, request_id, version, raw)
        if lower[:1] == ["me"]:
            (user, upn), tail = self.user(self.options.me_user), lower[1:]
        elif lower[:1] == ["users"] and len(rest) >= 2:
            (user, upn), tail = self.user(rest[1]), lower[2:]
        else:
            raise GraphError(404, "itemNotFound", f"Resource not found for the segment '{rest[0] if rest else ''}'.")
        if tail[:2] != ["authentication", "qrcodepinmethod"]:
            raise GraphError(404, "itemNotFound", "Resource not found.")
        return self._method_resource(request, request_id, version, user, upn, tail[2:], raw)

    def user(self, key: str) -> tuple[str, str]:
        """The user ``key`` names, as (the key of its method in the store, its userPrincipalName).

        ``/users/{id | userPrincipalName}`` (v1.0/api/qrcodepinauthenticationmethod-get.md:36): an object id
        or a UPN of the :attr:`MockOptions.directory`, in any case, is that user; any other key is a user of
        its own, kept under the key in lower case, whose UPN is the key as given.
        """
        lowered = key.lower()
        for user_id, upn in self.options.directory.items():
            if lowered in (user_id.lower(), upn.lower()):
                return user_id.lower(), upn
        return lowered, key

    def _metadata(self, request: Request) -> bytes | None:
        """``/{version}/$metadata``: the contract as CSDL (:mod:`conformance.mock.metadata`); None for other paths."""
        segments = [unquote(s) for s in request.url.path.strip("/").split("/")]
        is_metadata = len(segments) == 2 and segments[1].lower() == "$metadata"
        version = Version.of_segment(segments[0]) if is_metadata else None
        if version is None:
            return None
        if version not in self.metadata:
            self.metadata[version] = metadata_document(read_documents(default_schema_dir()), version)
        return self.metadata[version]

    def _method_resource(
        self, request: Request, request_id: str, version: Version, user: str, upn: str, tail: list[str], raw: bytes
    ) -> Response:
        store, verb = self.store, request.method
        context = f"{request.base_url}{version}/$metadata#users('{upn}')/authentication/qrCodePinMethod"
        if not tail:
            _allow(verb, ("GET", "PUT", "DELETE"))
            if verb == "GET":
                return _json(
                    request_id,
                    200,
                    {"@odata.context": f"{context}/$entity", **self._entity(store.get_method(user).body(version))},
                )
            if verb == "DELETE":
                store.delete_method(user)
                return _json(request_id, 204, None)
            method, image = store.create_method(user, upn, parse_json(raw))
            location = f"{request.base_url}{version}/users/{upn}/authentication/qrCodePinMethod"
            body = self._entity(method.body(version, standard_image=image, reveal_pin=True))
            return _json(request_id, 201, {"@odata.context": f"{context}/$entity", **body}, {"Location": location})
        if tail[0] in KINDS and len(tail) == 1:
            kind = KINDS[tail[0]]
            _allow(verb, ("GET", "PATCH", "DELETE"))
            if verb == "GET":
                return _json(request_id, 200, self._entity(store.get_code(user, kind).body()))
            if verb == "DELETE":
                store.delete_code(user, kind)
                return _json(request_id, 204, None)
            qr, qr_image, created = store.patch_code(user, upn, kind, parse_json(raw))
            return _json(request_id, 201 if created else 200, self._entity(qr.body(qr_image)))
        if tail == ["pin"]:
            _allow(verb, ("PATCH",))
            # any body, or none, is ignored: the PIN is always generated (DECISIONS.md 9)
            return _json(request_id, 201, self._entity(store.reset_pin(user).body(reveal=True, version=version)))
        if tail == ["pin", "updatepin"]:
            _allow(verb, self.options.rules.update_pin_verbs)  # the SDK posts (an OData action); the pages say PATCH
            store.update_pin(user, parse_json(raw))
            return _json(request_id, 204, None)
        raise GraphError(404, "itemNotFound", "Resource not found.")

    def _policy(self, request: Request, request_id: str, version: Version, raw: bytes) -> Response:
        _allow(request.method, ("GET", "PATCH", "DELETE"))
        if request.method == "PATCH":
            self.store.update_policy(parse_json(raw), require_odata_type=version == Version.V1)
            if version == Version.BETA:
                return _json(request_id, 204, None)
        elif request.method == "DELETE":
            self.store.reset_policy()
            return _json(request_id, 204, None)
        body = {
            "@odata.type": "#microsoft.graph.qrCodePinAuthenticationMethodConfiguration",
            "id": POLICY_IDS[version],
            **self.store.policy,
            "excludeTargets": [],
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}],
        }
        return _json(request_id, 200, self._entity(body))


def _allow(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        use = f"; use {', '.join(allowed)}" if allowed else ""
        raise GraphError(405, "MethodNotAllowed", f"{method} is not supported here{use}.")


def create_app(options: MockOptions | None = None) -> Starlette:
    """The reference mock as an ASGI app; ``options``: knobs and rules (default: no knobs, the documented rules)."""
    return GraphMock(options).asgi
