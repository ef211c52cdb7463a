"""What whistle tells the mail relay about itself: a neutral EHLO name, never the machine's own
(socket.getfqdn()); and SMTPS, TLS from the first byte, on port 465 or when configured."""
from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from whistle.services.operations import notify


class Relay:
    def __init__(self) -> None:
        self.ehlo: list[str] = []
        self.mails: list[bytes] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # type: ignore[no-untyped-def]
        self.ehlo.append(hostname)
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.mails.append(bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cfg(port: int, **kw: object) -> SimpleNamespace:
    values: dict[str, object] = dict(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                                     smtp_user="", smtp_password="", smtp_timeout=5.0,
                                     smtp_from="whistle@example.go.id")
    values.update(kw)
    return SimpleNamespace(**values)


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1, trusted by the client through SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "relay.pem", tmp_path / "relay.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server


def _relay(**kw: object) -> Iterator[tuple[Relay, int]]:  # one relay, for a one-pass loop
    relay, port = Relay(), _free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port, **kw)  # type: ignore[arg-type]
    controller.start()
    try:
        yield relay, port
    finally:
        controller.stop()


def test_ehlo_name_is_neutral_not_the_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getfqdn", lambda *a: "whistle-db-01.internal.example.go.id")
    for relay, port in _relay():
        sent = notify.deliver(_cfg(port), [("ver@example.go.id", "s", "body")])
        assert sent == 1 and relay.mails
        assert relay.ehlo == [notify.NEUTRAL_HOSTNAME]
        assert b"internal.example" not in relay.mails[0]


def test_implicit_tls_when_configured(certificate: ssl.SSLContext) -> None:
    for relay, port in _relay(ssl_context=certificate):
        assert notify.deliver(_cfg(port, smtp_implicit_tls=True),
                              [("ver@example.go.id", "s", "body")]) == 1
        assert relay.ehlo == [notify.NEUTRAL_HOSTNAME]
        # The same relay refuses a client that does not start with TLS: nothing is sent.
        assert notify.deliver(_cfg(port), [("ver@example.go.id", "s", "body")]) == 0
        assert len(relay.mails) == 1


def test_port_465_means_implicit_tls(certificate: ssl.SSLContext) -> None:
    relay = Relay()
    controller = Controller(relay, hostname="127.0.0.1", port=notify.IMPLICIT_TLS_PORT,
                            ssl_context=certificate)
    try:
        controller.start()
    except (OSError, RuntimeError) as exc:  # not root, or the port is taken on this machine
        pytest.skip(f"cannot listen on 127.0.0.1:465: {exc}")
    try:
        assert notify.deliver(_cfg(notify.IMPLICIT_TLS_PORT),
                              [("ver@example.go.id", "s", "body")]) == 1
        assert relay.ehlo == [notify.NEUTRAL_HOSTNAME]
    finally:
        controller.stop()
