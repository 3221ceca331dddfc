"""The run's settings: every option in one table, resolved once into a frozen :class:`Settings`.

Precedence: command line > ini (``[tool.pytest.ini_options]`` / ``pytest.ini``) > environment >
default. Nothing else reads options: the plugin stores the result in ``config.stash``.
This module imports nothing heavy, so loading the plugin stays cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.errors import UsageError

VERSIONS = ("beta", "v1.0")
AUTH_MODES = ("none", "token", "client-secret", "client-certificate", "device-code")
MICROSOFT_GRAPH_HOSTS = (
    "graph.microsoft.com",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
)
DEFAULT_USER = "00000000-0000-4000-8000-00000000c0de"
PLACEHOLDER_TOKEN = "graph-conformance-placeholder-token"


@dataclass(frozen=True)
class Option:
    """One setting: its command-line flag, ini key, environment variable and default."""

    name: str
    flag: str
    help: str
    ini: bool = False
    env: str | None = None
    default: Any = None
    kind: str = "string"  # string | flag | list | path | float
    choices: tuple[str, ...] | None = None


OPTIONS: tuple[Option, ...] = (
    Option(
        "base_url",
        "--graph-base-url",
        "service root of the target, e.g. https://graph.microsoft.com or http://127.0.0.1:8000",
        ini=True,
        env="GRAPH_BASE_URL",
    ),
    Option(
        "api_version",
        "--graph-api-version",
        "API version to check: beta, v1.0 or all (default: all)",
        ini=True,
        env="GRAPH_API_VERSION",
        default="all",
        choices=(*VERSIONS, "all"),
    ),
    Option(
        "user",
        "--graph-user",
        f"user id or UPN the scenarios act on (default against a mock: {DEFAULT_USER})",
        ini=True,
        env="GRAPH_USER",
    ),
    Option(
        "scenarios",
        "--graph-scenarios",
        "scenario file or folder (repeatable; default: the packaged catalogue)",
        ini=True,
        kind="list",
    ),
    Option(
        "auth",
        "--graph-auth",
        "how to authenticate: none, token, client-secret, client-certificate, device-code "
        "(default: token if one is given, else none)",
        env="GRAPH_AUTH",
        choices=AUTH_MODES,
    ),
    Option("token", "--graph-token", "a bearer token to send as is", env="GRAPH_ACCESS_TOKEN"),
    Option("tenant", "--graph-tenant", "tenant id or domain for msal", env="GRAPH_TENANT_ID"),
    Option("client_id", "--graph-client-id", "application (client) id for msal", env="GRAPH_CLIENT_ID"),
    Option(
        "client_secret",
        "--graph-client-secret",
        "client secret for msal (prefer the environment variable)",
        env="GRAPH_CLIENT_SECRET",
    ),
    Option(
        "certificate",
        "--graph-certificate",
        "PEM file with the private key and certificate for msal",
        env="GRAPH_CLIENT_CERTIFICATE",
        kind="path",
    ),
    Option(
        "certificate_thumbprint",
        "--graph-certificate-thumbprint",
        "SHA-1 thumbprint of that certificate",
        env="GRAPH_CLIENT_CERTIFICATE_THUMBPRINT",
    ),
    Option(
        "authority_host",
        "--graph-authority-host",
        "token authority host (default: https://login.microsoftonline.com)",
        env="GRAPH_AUTHORITY_HOST",
        default="https://login.microsoftonline.com",
    ),
    Option(
        "scope",
        "--graph-scope",
        "scope to ask tokens for (default: https://graph.microsoft.com/.default)",
        env="GRAPH_SCOPE",
        default="https://graph.microsoft.com/.default",
    ),
    Option(
        "ca_bundle",
        "--graph-ca-bundle",
        "CA bundle that msal trusts for the authority (default: the system's)",
        env="GRAPH_CA_BUNDLE",
        kind="path",
    ),
    Option(
        "allow_writes",
        "--graph-allow-writes",
        "let scenarios that write run against Microsoft Graph (only for --graph-allowed-users)",
        kind="flag",
    ),
    Option(
        "allowed_users",
        "--graph-allowed-users",
        "comma-separated users that writing scenarios may act on in a live tenant",
        env="GRAPH_ALLOWED_USERS",
        kind="list",
    ),
    Option(
        "cassette_dir",
        "--graph-cassette-dir",
        "where cassettes are recorded and replayed (default: ./cassettes)",
        ini=True,
        default="cassettes",
        kind="path",
    ),
    Option(
        "timeout",
        "--graph-timeout",
        "seconds to wait for any one HTTP exchange or token request (default: 10)",
        default="10",
        kind="float",
    ),
    Option(
        "retry_budget",
        "--graph-retry-budget",
        "seconds a case may spend waiting on Retry-After (default: 30)",
        default="30",
        kind="float",
    ),
    Option("report", "--conformance-report", "write the JSON conformance report to this file", kind="path"),
    Option(
        "pinned",
        "--graph-pinned",
        "file of documented alternatives to forbid (default: the packaged pinned.yaml)",
        kind="path",
    ),
)


@dataclass(frozen=True)
class Settings:
    base_url: str | None
    versions: tuple[str, ...]
    user: str
    scenarios: tuple[Path, ...]
    auth: str
    token: str | None
    tenant: str | None
    client_id: str | None
    client_secret: str | None
    certificate: Path | None
    certificate_thumbprint: str | None
    authority_host: str
    scope: str
    ca_bundle: Path | None
    allow_writes: bool
    allowed_users: tuple[str, ...]
    cassette_dir: Path
    timeout: float
    retry_budget: float
    report: Path | None
    pinned: Path | None
    record_mode: str | None  # pytest-recording's --record-mode, when given

    @property
    def is_microsoft_graph(self) -> bool:
        host = (urlsplit(self.base_url or "").hostname or "").lower()
        return any(host == h or host.endswith("." + h) for h in MICROSOFT_GRAPH_HOSTS)

    @property
    def replaying(self) -> bool:
        return self.record_mode == "none"

    def write_refusal(self) -> str | None:
        """Why a writing scenario must not run against this target, or None when it may."""
        if not self.is_microsoft_graph:
            return None
        if not self.allow_writes:
            return "writes to a live tenant need --graph-allow-writes (run: --allow-writes)"
        if self.user not in self.allowed_users:
            return f"user {self.user!r} is not in --graph-allowed-users; writes run only for allow-listed test users"
        return None

    def public(self) -> dict[str, Any]:
        """The settings a report may show (no secrets)."""
        return {
            "base_url": self.base_url,
            "versions": list(self.versions),
            "user": self.user,
            "auth": self.auth,
            "record_mode": self.record_mode,
            "cassette_dir": str(self.cassette_dir),
            "allow_writes": self.allow_writes,
            "scenarios": [str(p) for p in self.scenarios],
        }


def _check_base_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # reading it validates it
    except ValueError:
        parts = urlsplit("invalid:")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(
            f"--graph-base-url {value!r}: give the service root as http(s)://host[:port][/path], e.g. https://graph.microsoft.com"
        )
    path = parts.path.rstrip("/")
    if path.split("/")[-1] in VERSIONS:
        raise UsageError(
            f"--graph-base-url {value!r}: give the service root without the version (the suite adds /beta or /v1.0)"
        )
    return value.rstrip("/")


def resolve(
    cli: dict[str, Any], ini: dict[str, Any], environ: dict[str, str] | None = None, record_mode: str | None = None
) -> Settings:
    """CLI > ini > environment > default, validated, into one frozen Settings."""
    environ = dict(os.environ) if environ is None else environ
    raw: dict[str, Any] = {}
    for option in OPTIONS:
        value = cli.get(option.name)
        if value in (None, [], False) and option.ini:
            value = ini.get(option.name) or None
        if value in (None, [], False) and option.env:
            value = environ.get(option.env) or None
        if value in (None, [], False):
            value = option.default
        if option.choices and value is not None and value not in option.choices:
            raise UsageError(f"{option.flag} {value!r}: choose one of {', '.join(option.choices)}")
        raw[option.name] = value
    base_url = _check_base_url(raw["base_url"]) if raw["base_url"] else None
    auth = raw["auth"] or ("token" if raw["token"] else "none")
    if auth == "token" and not raw["token"]:
        raise UsageError("--graph-auth token needs --graph-token or GRAPH_ACCESS_TOKEN")
    needed = {
        "client-secret": ("tenant", "client_id", "client_secret"),
        "client-certificate": ("tenant", "client_id", "certificate", "certificate_thumbprint"),
        "device-code": ("tenant", "client_id"),
    }.get(auth, ())
    missing = [next(o.flag for o in OPTIONS if o.name == n) for n in needed if not raw[n]]
    if missing:
        raise UsageError(f"--graph-auth {auth} needs {', '.join(missing)}")
    floats: dict[str, float] = {}
    for name in ("timeout", "retry_budget"):
        try:
            floats[name] = float(raw[name])
        except (TypeError, ValueError):
            flag = next(o.flag for o in OPTIONS if o.name == name)
            raise UsageError(f"{flag} {raw[name]!r}: give a number of seconds") from None
        if floats[name] <= 0 and name == "timeout":
            raise UsageError(f"--graph-timeout {raw[name]!r}: give a positive number of seconds")
    scenarios = raw["scenarios"] or []
    if isinstance(scenarios, str):
        scenarios = scenarios.split()
    allowed = raw["allowed_users"] or []
    if isinstance(allowed, str):
        allowed = [allowed]
    allowed_users = tuple(u.strip() for item in allowed for u in str(item).split(",") if u.strip())
    settings = Settings(
        base_url=base_url,
        versions=VERSIONS if raw["api_version"] == "all" else (raw["api_version"],),
        user=raw["user"] or DEFAULT_USER,
        scenarios=tuple(Path(p) for p in scenarios),
        auth=auth,
        token=raw["token"],
        tenant=raw["tenant"],
        client_id=raw["client_id"],
        client_secret=raw["client_secret"],
        certificate=Path(raw["certificate"]) if raw["certificate"] else None,
        certificate_thumbprint=raw["certificate_thumbprint"],
        authority_host=str(raw["authority_host"]).rstrip("/"),
        scope=raw["scope"],
        ca_bundle=Path(raw["ca_bundle"]) if raw["ca_bundle"] else None,
        allow_writes=bool(raw["allow_writes"]),
        allowed_users=allowed_users,
        cassette_dir=Path(raw["cassette_dir"]),
        timeout=floats["timeout"],
        retry_budget=floats["retry_budget"],
        report=Path(raw["report"]) if raw["report"] else None,
        pinned=Path(raw["pinned"]) if raw["pinned"] else None,
        record_mode=record_mode,
    )
    if settings.is_microsoft_graph and not raw["user"]:
        raise UsageError("--graph-user is required against Microsoft Graph (the user the scenarios act on)")
    return settings
