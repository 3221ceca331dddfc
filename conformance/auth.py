"""Authentication as ``httpx.Auth`` classes: a static token, and msal flows.

msal is imported only when an msal flow is used. Every msal call carries the run's timeout (msal's
own default waits forever), and a token is cached for the run by msal's in-memory cache.

Every secret the run holds (the token given, tokens msal returns, the client secret, a password in
the base URL) is handed to :func:`conformance.scrub.remember`, so no artefact shows it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Generator
from typing import Any

import httpx

from conformance import scrub
from conformance.config import PLACEHOLDER_TOKEN, Settings
from conformance.errors import AuthError


class StaticToken(httpx.Auth):
    """Sends one bearer token as is."""

    def __init__(self, token: str) -> None:
        if token != PLACEHOLDER_TOKEN:
            scrub.remember(token)
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class MsalAuth(httpx.Auth):
    """Tokens from msal: client credentials (secret or certificate) or the device-code flow."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._app: Any = None
        self._session: Any = None
        self._lock = threading.Lock()  # one token request at a time (--workers): one device-code prompt

    def _application(self) -> Any:
        if self._app is not None:
            return self._app
        import msal  # type: ignore[import-untyped]  # lazy (~170 ms); msal ships no type hints
        import requests

        s = self.settings
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override our CA bundle otherwise
        session.verify = str(s.ca_bundle) if s.ca_bundle else True
        self._session = session
        authority = f"{s.authority_host}/{s.tenant}"
        microsoft = "login.microsoftonline.com" in s.authority_host or "login.microsoftonline.us" in s.authority_host
        common = {"authority": authority, "http_client": session, "timeout": s.timeout, "instance_discovery": microsoft}
        try:
            if s.auth == "device-code":
                self._app = msal.PublicClientApplication(s.client_id, **common)
            elif s.auth == "client-certificate":
                assert s.certificate is not None
                pem = s.certificate.read_text(encoding="utf-8")
                credential = {"private_key": pem, "thumbprint": s.certificate_thumbprint}
                self._app = msal.ConfidentialClientApplication(s.client_id, client_credential=credential, **common)
            else:
                self._app = msal.ConfidentialClientApplication(s.client_id, client_credential=s.client_secret, **common)
        except (OSError, ValueError, requests.RequestException) as exc:
            raise AuthError(f"msal could not reach the authority {authority}: {type(exc).__name__}: {exc}") from None
        return self._app

    def token(self) -> str:
        """An access token from msal: from its cache when still valid, else from the configured flow."""
        app = self._application()
        scopes = [self.settings.scope]
        try:
            if self.settings.auth == "device-code":
                accounts = app.get_accounts()
                result = app.acquire_token_silent(scopes, account=accounts[0]) if accounts else None
                if not result:
                    flow = app.initiate_device_flow(scopes=scopes)
                    if "user_code" not in flow:
                        raise AuthError(
                            f"device code flow could not start: {flow.get('error_description') or flow.get('error')}"
                        )
                    print(flow["message"], file=sys.stderr, flush=True)
                    result = app.acquire_token_by_device_flow(flow, exit_condition=lambda f: False)
            else:
                result = app.acquire_token_for_client(scopes=scopes)
        except AuthError:
            raise
        except Exception as exc:  # msal raises requests' and its own errors; report them as one thing
            raise AuthError(f"token request failed: {type(exc).__name__}: {exc}") from None
        if not result or "access_token" not in result:
            result = result or {}
            raise AuthError(
                f"no token: {result.get('error', 'unknown error')}: {result.get('error_description', '')}".strip()
            )
        token = str(result["access_token"])
        for secret in (token, result.get("refresh_token"), result.get("id_token")):
            scrub.remember(secret)
        return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    def close(self) -> None:
        """Close msal's HTTP session (its keep-alive connections to the authority)."""
        if self._session is not None:
            self._session.close()


def build_auth(settings: Settings) -> httpx.Auth | None:
    """The run's auth; replays and mocks without credentials send a placeholder token.

    The settings' secrets are remembered for scrubbing first, whichever auth is used."""
    for secret in (settings.token, settings.client_secret, *_url_passwords(settings.base_url)):
        scrub.remember(secret)
    if settings.replaying:
        return StaticToken(PLACEHOLDER_TOKEN)
    if settings.auth == "token":
        assert settings.token is not None
        return StaticToken(settings.token)
    if settings.auth in ("client-secret", "client-certificate", "device-code"):
        return MsalAuth(settings)
    if not settings.is_microsoft_graph:
        return StaticToken(PLACEHOLDER_TOKEN)
    return None


def _url_passwords(url: str | None) -> tuple[str, ...]:
    """The password of a base URL's userinfo as written and percent-decoded; none when there is none."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url or "").password
    except ValueError:
        return ()
    return (password, unquote(password)) if password else ()
