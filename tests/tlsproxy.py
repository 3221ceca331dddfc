"""A loopback impostor of Microsoft Graph for the live-safety drill.

An HTTPS proxy on 127.0.0.1 accepts ``CONNECT graph.microsoft.com:443``, terminates TLS with a
certificate for ``graph.microsoft.com`` signed by a throwaway CA (which the run under test is told to
trust through ``SSL_CERT_FILE``), and forwards every request to the reference mock served on
loopback. Every request is counted, so a test knows exactly which writes would have reached Graph.
Nothing leaves the machine: the run's traffic goes to the proxy, and the proxy only talks to the
mock on 127.0.0.1.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from pathlib import Path
from typing import Any

import h11
import httpx

from conformance.mock.serve import BackgroundServer
from tests.helpers import one_day_certificate

GRAPH_HOST = "graph.microsoft.com"
WRITES = frozenset({"PUT", "PATCH", "POST", "DELETE"})


def impostor_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a key and certificate for graph.microsoft.com that it signs: (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "graph-conformance drill CA")])
    ca = (
        one_day_certificate(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    graph_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, GRAPH_HOST)])
    cert = (
        one_day_certificate(graph_name, ca_name, key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(GRAPH_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (folder / "drill-ca.pem", folder / "graph.pem", folder / "graph-key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


class GraphImpostor:
    """The proxy and the mock behind it, for a ``with`` block; ``requests`` lists (method, path)."""

    def __init__(self, folder: Path, app: Any) -> None:
        self.ca, cert, key = impostor_certificate(folder)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.mock = BackgroundServer(app)
        self.requests: list[tuple[str, str]] = []
        self.connects: list[str] = []
        self.lock = threading.Lock()
        impostor = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                impostor._serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler, bind_and_activate=True)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def writes(self) -> list[tuple[str, str]]:
        """The requests so far that would have written: (method, path)."""
        with self.lock:
            return [r for r in self.requests if r[0] in WRITES]

    def env(self) -> dict[str, str]:
        """What the run under test needs in its environment to reach Graph through the impostor."""
        return {
            "HTTPS_PROXY": f"http://127.0.0.1:{self.server.server_address[1]}",
            "SSL_CERT_FILE": str(self.ca),
            "NO_PROXY": "",
        }

    def __enter__(self) -> GraphImpostor:
        self.mock.__enter__()
        self.upstream = httpx.Client(base_url=self.mock.url, timeout=30, trust_env=False)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.upstream.close()
        self.mock.__exit__(*exc)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(30)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = sock.recv(4096)
            if not chunk:
                return
            head += chunk
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        verb, _, target = request_line.partition(" ")
        if verb != "CONNECT":
            sock.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        with self.lock:
            self.connects.append(target.split(" ")[0])
        sock.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        try:
            tls = self.tls.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with tls:
            self._relay(tls)

    def _relay(self, tls: ssl.SSLSocket) -> None:
        connection = h11.Connection(h11.SERVER)
        for _ in range(10_000):  # bounded: one run's requests on one connection
            request: h11.Request | None = None
            body = b""
            while True:
                event = connection.next_event()
                if event is h11.NEED_DATA:
                    try:
                        data = tls.recv(65536)
                    except (OSError, ssl.SSLError):
                        return
                    connection.receive_data(data)
                    if not data:
                        return
                    continue
                if isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    return
            assert request is not None
            method, path = request.method.decode(), request.target.decode()
            with self.lock:
                self.requests.append((method, path))
            headers = [(k.decode(), v.decode()) for k, v in request.headers if k.lower() != b"host"]
            answer = self.upstream.request(method, path, headers=headers, content=body)
            out = [(k, v) for k, v in answer.headers.items() if k.lower() not in ("transfer-encoding", "connection")]
            out = [(k, v) for k, v in out if k.lower() != "content-length"]
            out.append(("content-length", str(len(answer.content))))
            tls.sendall(connection.send(h11.Response(status_code=answer.status_code, headers=out)) or b"")
            tls.sendall(connection.send(h11.Data(data=answer.content)) or b"")
            tls.sendall(connection.send(h11.EndOfMessage()) or b"")
            if connection.our_state is h11.MUST_CLOSE:
                return
            connection.start_next_cycle()
