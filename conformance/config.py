"""The run's settings: every option in one table, resolved once into a frozen :class:`Settings`.

Precedence: command line > environment > ini (``[tool.pytest.ini_options]`` / ``pytest.ini``) >
default, so a CI job's variables override a committed ini file. Each option has two spellings on the
command line: the plugin's ``--graph-*`` flag and ``graph-conformance run``'s flag (by default the same
without ``graph-``); messages use the one the user typed (see :attr:`Settings.via`). Nothing else reads
options: the plugin stores the result in ``config.stash``.
This module imports nothing heavy, so loading the plugin stays cheap.
"""

from __future__ import annotations

import ipaddress
import math
import os
import sys
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from conformance.errors import UsageError
from conformance.inprocess import APP_ORIGIN, load_app
from conformance.scrub import redact_url, remember
from conformance.versions import ALL_VERSIONS

AUTH_MODES = ("none", "token", "client-secret", "client-certificate", "device-code")
MICROSOFT_GRAPH_HOSTS = (
    "graph.microsoft.com",
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
)
DEFAULT_USER = "00000000-0000-4000-8000-00000000c0de"
DEFAULT_USER_UPN = "frontline.worker@contoso.example"  # the loopback mock's userPrincipalName of DEFAULT_USER
# against a loopback mock: a user nothing ever writes to, so reading its method answers 404
DEFAULT_USER_WITHOUT_METHOD = "00000000-0000-4000-8000-0000000000de"
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_TOKEN_FILE_LIMIT = 64 * 1024  # a bearer token is a few KiB at most
# full stops that IDNA (RFC 3490 section 3.1) treats as label separators, as httpx does
_UNICODE_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
PLACEHOLDER_TOKEN = "graph-conformance-placeholder-token"
VIA_PYTEST, VIA_RUN = "pytest", "graph-conformance"  # whose flags a run was given: the plugin's or run's
MAX_WORKERS = 32  # cases run at once: more only queue on the connection pool and the target's throttling


@dataclass(frozen=True)
class Option:
    """One setting: its plugin flag, ``run``'s flag, ini key, environment variable and default."""

    name: str
    flag: str
    help: str
    ini: bool = False
    env: str | None = None
    default: Any = None
    kind: str = "string"  # string | flag | list | path | float | int
    choices: tuple[str, ...] | None = None
    run: str = ""  # the flag of ``graph-conformance run``; by default the plugin flag without ``graph-``

    def __post_init__(self) -> None:
        if not self.run:  # one table: run's flag follows the plugin's (--graph-user -> --user)
            object.__setattr__(self, "run", self.flag.replace("--graph-", "--", 1))

    def spelled(self, via: str) -> str:
        """The flag as the command line ``via`` (:data:`VIA_RUN` or :data:`VIA_PYTEST`) spells it."""
        return self.run if via == VIA_RUN else self.flag


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
        choices=(*ALL_VERSIONS, "all"),
    ),
    Option(
        "user",
        "--graph-user",
        f"user id or UPN the scenarios act on (default against a loopback mock: {DEFAULT_USER})",
        ini=True,
        env="GRAPH_USER",
    ),
    Option(
        "user_without_method",
        "--graph-user-without-method",
        "a user who has no QR code + PIN method, for the read-only 404 check "
        f"(default against a loopback mock: {DEFAULT_USER_WITHOUT_METHOD})",
        ini=True,
        env="GRAPH_USER_WITHOUT_METHOD",
    ),
    Option(
        "user_upn",
        "--graph-user-upn",
        "the userPrincipalName of the user the scenarios act on, for the scenarios that address it by UPN "
        f"(default against a loopback mock: {DEFAULT_USER_UPN})",
        ini=True,
        env="GRAPH_USER_UPN",
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
    Option(
        "token",
        "--graph-token",
        "a bearer token to send as is (prefer a token file or GRAPH_ACCESS_TOKEN: a flag shows in the process list)",
        env="GRAPH_ACCESS_TOKEN",
    ),
    Option(
        "token_file",
        "--graph-token-file",
        "read the bearer token from this file ('-': standard input)",
        env="GRAPH_ACCESS_TOKEN_FILE",
    ),
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
        "read_only",
        "--graph-read-only",
        "run no scenario that writes, whatever the target (an audit that changes nothing)",
        kind="flag",
    ),
    Option(
        "allow_writes",
        "--graph-allow-writes",
        "let scenarios that write run against a target that is not on loopback (only for the allowed users)",
        kind="flag",
    ),
    Option(
        "allowed_users",
        "--graph-allowed-users",
        "comma-separated users that writing scenarios may act on in a live tenant ('me': the token's owner)",
        env="GRAPH_ALLOWED_USERS",
        kind="list",
    ),
    Option(
        "allow_policy_writes",
        "--graph-allow-policy-writes",
        "with writes allowed: let scenarios change the tenant-wide QR code + PIN policy "
        "(read first, restored to exactly that afterwards)",
        kind="flag",
    ),
    Option(
        "allow_replace",
        "--graph-allow-replace",
        "with writes allowed: let scenarios delete a QR code + PIN method a user already has "
        "(it cannot be restored: its PIN and codes are gone)",
        kind="flag",
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
        "seconds any one HTTP exchange (its whole answer included) or token request may take (default: 10)",
        default="10",
        kind="float",
    ),
    Option(
        "max_response_bytes",
        "--graph-max-response-bytes",
        f"largest answer read, on the wire and decompressed (default: {DEFAULT_MAX_RESPONSE_BYTES})",
        default=str(DEFAULT_MAX_RESPONSE_BYTES),
        kind="int",
    ),
    Option(
        "retry_budget",
        "--graph-retry-budget",
        "seconds a case may spend waiting on Retry-After (default: 30)",
        default="30",
        kind="float",
    ),
    Option(
        "report",
        "--conformance-report",
        "write the JSON conformance report to this file",
        kind="path",
        run="--report-json",
    ),
    Option(
        "pinned",
        "--graph-pinned",
        "file of documented alternatives to forbid (default: the packaged pinned.yaml)",
        kind="path",
    ),
    Option(
        "rules",
        "--graph-rule",
        "run only the cases of this rule of rules.yaml (repeatable; as the marker: -m RULE)",
        kind="list",
    ),
    Option(
        "expect_deviations",
        "--graph-expect-deviations",
        "YAML file of the target's known deviations: reported as expected, not failed",
        kind="path",
    ),
    Option(
        "write_deviations",
        "--graph-write-deviations",
        "write this run's violations to this file, in the --expect-deviations format (reasons to fill in)",
        kind="path",
    ),
    Option(
        "strict_drift",
        "--graph-strict-drift",
        "fail a case on a property the docs do not mention (default: a drift warning)",
        kind="flag",
    ),
    Option(
        "report_html",
        "--graph-report-html",
        "write a self-contained HTML report to this file (cases, requests and answers scrubbed, doc links)",
        kind="path",
    ),
    Option(
        "report_markdown",
        "--graph-report-markdown",
        "append a Markdown summary to this file, e.g. $GITHUB_STEP_SUMMARY (counts, failures, drift)",
        kind="path",
    ),
    Option(
        "app",
        "--graph-app",
        "run against this ASGI app in-process, no server and no network: module:attribute, or "
        "module:factory() to call a factory (instead of a base URL)",
        ini=True,
    ),
    Option(
        "workers",
        "--graph-workers",
        "cases run at once, each worker on its own user: --user, then the other --allowed-users, then on a "
        "mock (loopback or in-process) generated ones (default: 1)",
        default="1",
        kind="int",
    ),
)


def option(name: str) -> Option:
    """The option called ``name`` (its field name in :class:`Settings`)."""
    return next(o for o in OPTIONS if o.name == name)


def target_host(base_url: str) -> str:
    """The host a request to ``base_url`` really goes to, as httpx will resolve it.

    Userinfo is dropped, Unicode full stops are folded to ``.``, the name is normalised (NFKC) and
    IDNA-encoded, lower-cased, and trailing dots are removed; IPv6 literals lose their brackets."""
    netloc = urlsplit(base_url).netloc.rpartition("@")[2]
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")].lower() if "]" in netloc else netloc.lower()
    host = unicodedata.normalize("NFKC", netloc.translate(_UNICODE_DOTS)).translate(_UNICODE_DOTS)
    host = host.rsplit(":", 1)[0] if ":" in host else host
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = host.encode("ascii", "backslashreplace").decode("ascii")  # unresolvable: never loopback
    return host.lower().rstrip(".")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (as :func:`target_host` gives it) is this machine's loopback, and only that."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # any other name may resolve anywhere: fail closed
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@dataclass(frozen=True)
class Settings:
    """A run's resolved settings (CLI > environment > ini > defaults), frozen; secrets redacted in reprs."""
    base_url: str | None
    versions: tuple[str, ...]
    user: str
    user_without_method: str | None
    user_upn: str | None
    scenarios: tuple[Path, ...]
    auth: str
    token: str | None = field(repr=False)
    tenant: str | None
    client_id: str | None
    client_secret: str | None = field(repr=False)
    certificate: Path | None
    certificate_thumbprint: str | None
    authority_host: str
    scope: str
    ca_bundle: Path | None
    read_only: bool
    allow_writes: bool
    allowed_users: tuple[str, ...]
    allow_policy_writes: bool
    allow_replace: bool
    cassette_dir: Path
    timeout: float
    max_response_bytes: int
    retry_budget: float
    report: Path | None
    pinned: Path | None
    record_mode: str | None  # pytest-recording's --record-mode, when given
    via: str  # whose flags the run was given (VIA_RUN or VIA_PYTEST): messages name those
    rules: tuple[str, ...] = ()
    expect_deviations: Path | None = None
    write_deviations: Path | None = None
    strict_drift: bool = False
    report_html: Path | None = None
    report_markdown: Path | None = None
    app: str | None = None  # module:attr of an in-process ASGI app; base_url is then APP_ORIGIN
    workers: int = 1  # cases run at once (conformance.workers)

    def flag(self, name: str) -> str:
        """The flag that sets ``name`` on the command line this run was given."""
        return option(name).spelled(self.via)

    @property
    def host(self) -> str:
        """The host requests really go to (see :func:`target_host`)."""
        return target_host(self.base_url or "")

    @property
    def is_loopback(self) -> bool:
        if self.base_url is None:
            return False
        written = urlsplit(self.base_url).netloc.rpartition("@")[2]
        return written.isascii() and is_loopback_host(self.host)  # no look-alike spelling counts as loopback

    @property
    def in_process(self) -> bool:
        """Whether requests go to an in-process app (no network), never to a URL."""
        return self.app is not None and self.base_url == APP_ORIGIN

    @property
    def is_microsoft_graph(self) -> bool:
        host = self.host
        return any(host == h or host.endswith("." + h) for h in MICROSOFT_GRAPH_HOSTS)

    @property
    def target_kind(self) -> str:
        """How the run treats the target: an in-process app, a loopback mock, or a live (any other) service."""
        if self.in_process:
            return f"in-process ASGI app {self.app}, no network"
        if self.is_loopback:
            return "loopback mock"
        return "Microsoft Graph (live)" if self.is_microsoft_graph else "remote service (treated as live)"

    @property
    def replaying(self) -> bool:
        return self.record_mode == "none"

    @property
    def guarded(self) -> bool:
        """Whether writes could reach a live service: any target not on loopback or in-process, replays
        included (a replay whose cassette misses a request, or that runs without vcrpy, would send it)."""
        return not (self.is_loopback or self.in_process)

    def write_refusal(self, *, user: bool = True, me: bool = False, policy: bool = False) -> str | None:
        """Why a scenario that writes (to the user, to /me, to the policy) must not run, or None."""
        if self.read_only:
            return f"the scenario writes, and this is a read-only run ({self.flag('read_only')})"
        if not self.guarded:
            return None
        if not self.allow_writes:
            return f"writes to {self.host} (not loopback) need {self.flag('allow_writes')}"
        if user and self.user not in self.allowed_users:
            allowed = self.flag("allowed_users")
            return f"user {self.user!r} is not in {allowed}; writes run only for allow-listed test users"
        if me and "me" not in self.allowed_users:
            return f"it writes through /me (the token's owner); add 'me' to {self.flag('allowed_users')} to allow that"
        if policy and not self.allow_policy_writes:
            return f"it changes the tenant-wide policy; that needs {self.flag('allow_policy_writes')}"
        return None

    def may_write(self) -> str:
        """What this run may write, for the banner."""
        if self.read_only:
            return f"nothing ({self.flag('read_only')})"
        if not self.guarded:
            return "anything (in-process app)" if self.in_process else "anything (loopback mock)"
        if not self.allow_writes:
            return f"nothing (no {self.flag('allow_writes')}): read-only checks only"
        users = [u for u in self.allowed_users if u != "me"]
        parts = []
        if self.user in users:
            parts.append(f"the method of {self.user}" + (" (an existing one too)" if self.allow_replace else ""))
        if "me" in self.allowed_users:
            parts.append("the method of the token's owner (/me)")
        if self.allow_policy_writes:
            parts.append("the tenant policy (restored afterwards)")
        return ", ".join(parts) if parts else f"nothing (the user is not in {self.flag('allowed_users')})"

    def public(self) -> dict[str, Any]:
        """The settings a report may show (no secrets)."""
        return {
            "base_url": redact_url(self.base_url) if self.base_url else None,
            "target": self.target_kind,
            "app": self.app,
            "versions": list(self.versions),
            "user": self.user,
            "auth": self.auth,
            "record_mode": self.record_mode,
            "cassette_dir": str(self.cassette_dir),
            "read_only": self.read_only,
            "allow_writes": self.allow_writes,
            "allow_policy_writes": self.allow_policy_writes,
            "allow_replace": self.allow_replace,
            "scenarios": [str(p) for p in self.scenarios],
            "rules": list(self.rules),
            "expect_deviations": str(self.expect_deviations) if self.expect_deviations else None,
            "strict_drift": self.strict_drift,
        }


def _check_base_url(value: str, given_as: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # reading it validates it
    except ValueError:
        parts = urlsplit("invalid:")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(
            f"{given_as} {redact_url(value)!r}: give the service root as http(s)://host[:port][/path], "
            "e.g. https://graph.microsoft.com"
        )
    path = parts.path.rstrip("/")
    if "@" in parts.netloc:  # credentials in the URL are never sent: the token is the credential
        userinfo, _, hostport = parts.netloc.rpartition("@")
        for secret in userinfo.split(":"):
            remember(secret)
            remember(unquote(secret))
        value = parts._replace(netloc=hostport).geturl()
    if path.split("/")[-1] in ALL_VERSIONS:
        raise UsageError(
            f"{given_as} {redact_url(value)!r}: give the service root without the version "
            "(the suite adds /beta or /v1.0)"
        )
    return value.rstrip("/")


def read_token_file(value: str, given_as: str) -> str:
    """The one token in a file, or on standard input for ``-``; messages name it as ``given_as``."""
    if value == "-":
        stream = sys.__stdin__
        text = stream.read(_TOKEN_FILE_LIMIT + 1) if stream is not None else ""
        if len(text) > _TOKEN_FILE_LIMIT:
            raise UsageError(f"{given_as} -: standard input holds more than 64 KiB; give one token")
        where = "standard input"
    else:
        path = Path(value)
        try:
            if not path.is_file() or path.stat().st_size > _TOKEN_FILE_LIMIT:
                raise UsageError(f"{given_as} {value}: give a regular file of at most 64 KiB")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{given_as} {value}: cannot read it ({exc.__class__.__name__})") from None
        where = value
    token = text.strip()
    if not token or len(token.split()) != 1:
        raise UsageError(f"{given_as}: {where} must hold exactly one token")
    return token


def _writable_ancestor(flag: str, path: Path, start: Path, what: str) -> None:
    """The nearest existing folder at or above ``start`` must be a folder this process may write into."""
    folder = start
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot {what} there ({folder} is not a writable folder)")


def check_writable_file(flag: str, path: Path) -> None:
    """A report file must be writable before the run starts, not after it."""
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder; give a file path")
    _writable_ancestor(flag, path, path.parent, "write")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{flag} {path}: the file is not writable")


def _writable_folder(flag: str, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: is a file; give a folder")
    _writable_ancestor(flag, path, path, "record cassettes")


def _readable_file(flag: str, value: str) -> Path:
    """A file msal reads when the first case runs must be readable before the run starts."""
    path = Path(value)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise UsageError(f"{flag} {value}: no readable file there")
    return path


MSAL_FLOWS = ("client-secret", "client-certificate", "device-code")


def _msal_file(auth: str, flows: tuple[str, ...], flag: str, value: str | None) -> Path | None:
    """A file an msal flow reads, checked readable when ``auth`` is one of the ``flows`` that read it (a
    setting left in the environment for another flow costs nothing)."""
    if not value:
        return None
    return _readable_file(flag, value) if auth in flows else Path(value)


def _rank(given_as: str) -> int:
    """How a value was given, as precedence ranks it: 0 a flag, 1 an environment variable, 2 an ini key."""
    return 0 if given_as.startswith("-") else 2 if given_as.startswith("ini ") else 1


def resolve(
    cli: dict[str, Any],
    ini: dict[str, Any],
    environ: dict[str, str] | None = None,
    record_mode: str | None = None,
    via: str = VIA_PYTEST,
) -> Settings:
    """CLI > environment > ini > default, validated, into one frozen Settings.

    ``cli`` holds the values given as flags of the command line ``via`` (:data:`VIA_PYTEST`: the plugin's
    ``--graph-*`` flags; :data:`VIA_RUN`: ``graph-conformance``'s): every message names a value as it was
    given (that flag, the environment variable or the ini key), and a missing one by that command's flag."""
    environ = dict(os.environ) if environ is None else environ
    raw: dict[str, Any] = {}
    given_as: dict[str, str] = {}  # how each value was given (flag, variable or ini key), for the messages
    spelled = {opt.name: opt.spelled(via) for opt in OPTIONS}  # how this command line names each setting
    for opt in OPTIONS:
        value, given_as[opt.name] = cli.get(opt.name), spelled[opt.name]
        if value in (None, [], False) and opt.env:
            value, given_as[opt.name] = environ.get(opt.env) or None, opt.env
        if value in (None, [], False) and opt.ini:
            value, given_as[opt.name] = ini.get(opt.name) or None, f"ini graph_{opt.name}"
        if value in (None, [], False):
            value, given_as[opt.name] = opt.default, spelled[opt.name]
        if opt.choices and value is not None and value not in opt.choices:
            raise UsageError(f"{given_as[opt.name]} {value!r}: choose one of {', '.join(opt.choices)}")
        raw[opt.name] = value
    if raw["app"] and raw["base_url"]:  # one target: the one given the higher way (flag > variable > ini)
        app_rank, url_rank = _rank(given_as["app"]), _rank(given_as["base_url"])
        if app_rank == url_rank:
            raise UsageError(f"{given_as['app']} and {given_as['base_url']} both name a target: give one of them")
        raw["base_url" if app_rank < url_rank else "app"] = None
    base_url = _check_base_url(raw["base_url"], given_as["base_url"]) if raw["base_url"] else None
    if raw["app"]:
        load_app(raw["app"], given_as["app"])  # imported now: a bad spec ends the run before anything is sent
        base_url = APP_ORIGIN
    if raw["token_file"] and cli.get("token") and _rank(given_as["token_file"]) == 0:
        raise UsageError(f"give {spelled['token']} or {given_as['token_file']}, not both")
    if raw["token_file"] and not cli.get("token"):  # a token given as a flag outranks a file named elsewhere
        raw["token"] = read_token_file(str(raw["token_file"]), given_as["token_file"])
    auth = raw["auth"] or ("token" if raw["token"] else "none")
    if auth == "token" and not raw["token"]:
        raise UsageError(
            f"{given_as['auth']} token needs {spelled['token']}, {spelled['token_file']} or GRAPH_ACCESS_TOKEN"
        )
    needed = {
        "client-secret": ("tenant", "client_id", "client_secret"),
        "client-certificate": ("tenant", "client_id", "certificate", "certificate_thumbprint"),
        "device-code": ("tenant", "client_id"),
    }.get(auth, ())
    missing = [spelled[n] for n in needed if not raw[n]]
    if missing:
        raise UsageError(f"{given_as['auth']} {auth} needs {', '.join(missing)}")
    numbers: dict[str, float] = {}
    for name in ("timeout", "retry_budget", "max_response_bytes"):
        flag = given_as[name]
        try:
            numbers[name] = int(raw[name]) if option(name).kind == "int" else float(raw[name])
        except (TypeError, ValueError):
            unit = "a number of bytes" if option(name).kind == "int" else "a number of seconds"
            raise UsageError(f"{flag} {raw[name]!r}: give {unit}") from None
        smallest, largest = (0, 3600) if name == "retry_budget" else (1e-9, 3600)
        if name == "max_response_bytes":
            smallest, largest = 1, 1 << 30
        if not math.isfinite(numbers[name]) or not smallest <= numbers[name] <= largest:
            raise UsageError(f"{flag} {raw[name]!r}: give a number from {smallest:g} to {largest:g}")
    scenarios = raw["scenarios"] or []
    if isinstance(scenarios, str):
        scenarios = scenarios.split()
    allowed = raw["allowed_users"] or []
    if isinstance(allowed, str):
        allowed = [allowed]
    allowed_users = tuple(u.strip() for item in allowed for u in str(item).split(",") if u.strip())
    settings = Settings(
        base_url=base_url,
        versions=ALL_VERSIONS if raw["api_version"] == "all" else (raw["api_version"],),
        user=raw["user"] or DEFAULT_USER,
        user_without_method=raw["user_without_method"],
        user_upn=raw["user_upn"],
        scenarios=tuple(Path(p) for p in scenarios),
        auth=auth,
        token=raw["token"],
        tenant=raw["tenant"],
        client_id=raw["client_id"],
        client_secret=raw["client_secret"],
        certificate=_msal_file(auth, ("client-certificate",), given_as["certificate"], raw["certificate"]),
        certificate_thumbprint=raw["certificate_thumbprint"],
        authority_host=str(raw["authority_host"]).rstrip("/"),
        scope=raw["scope"],
        ca_bundle=_msal_file(auth, MSAL_FLOWS, given_as["ca_bundle"], raw["ca_bundle"]),
        read_only=bool(raw["read_only"]),
        allow_writes=bool(raw["allow_writes"]),
        allowed_users=allowed_users,
        allow_policy_writes=bool(raw["allow_policy_writes"]),
        allow_replace=bool(raw["allow_replace"]),
        cassette_dir=Path(raw["cassette_dir"]),
        timeout=numbers["timeout"],
        max_response_bytes=int(numbers["max_response_bytes"]),
        retry_budget=numbers["retry_budget"],
        report=Path(raw["report"]) if raw["report"] else None,
        pinned=Path(raw["pinned"]) if raw["pinned"] else None,
        record_mode=record_mode,
        via=via,
        rules=tuple(raw["rules"] or ()),
        expect_deviations=Path(raw["expect_deviations"]) if raw["expect_deviations"] else None,
        write_deviations=Path(raw["write_deviations"]) if raw["write_deviations"] else None,
        strict_drift=bool(raw["strict_drift"]),
        report_html=Path(raw["report_html"]) if raw["report_html"] else None,
        report_markdown=Path(raw["report_markdown"]) if raw["report_markdown"] else None,
        app=raw["app"] or None,
        workers=_workers(raw["workers"], given_as["workers"]),
    )
    local = settings.is_loopback or settings.in_process  # a mock: its default users apply
    if base_url and not local and not raw["user"]:
        raise UsageError(
            f"{spelled['user']} is required against {settings.host} (not loopback): the user the scenarios act on"
        )
    if local and not settings.user_without_method:
        settings = replace(settings, user_without_method=DEFAULT_USER_WITHOUT_METHOD)
    if local and not settings.user_upn:
        settings = replace(settings, user_upn=DEFAULT_USER_UPN)
    for name in ("report", "report_html", "report_markdown", "write_deviations"):
        if getattr(settings, name) is not None:
            check_writable_file(given_as[name], getattr(settings, name))
    if record_mode not in (None, "none"):
        _writable_folder(given_as["cassette_dir"], settings.cassette_dir)
    if settings.workers > 1:
        from conformance.workers import worker_users

        worker_users(settings)  # a live target needs a user per worker; cassettes are one case at a time
    return settings


def _workers(value: Any, given_as: str) -> int:
    """The number of workers: a whole number from 1 to :data:`MAX_WORKERS`."""
    try:
        workers = int(str(value).strip())
    except ValueError:
        workers = 0
    if not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"{given_as} {value!r}: give a whole number of workers from 1 to {MAX_WORKERS}")
    return workers
