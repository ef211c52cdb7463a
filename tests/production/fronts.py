"""The shipped Tor and nginx configurations, moved under a test folder.

Only paths, listen addresses and the upstream port change; every replaced line must be found
in the shipped file, so an edit to deploy/ that these tests no longer cover fails loudly
instead of being tested half.
"""
from __future__ import annotations

import base64
import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ONION_HOST = "lapor.example.go.id"


def substitute(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        assert old in text, f"shipped config no longer has {old!r}: update tests/production"
        text = text.replace(old, new)
    return text


# -- Tor ----------------------------------------------------------------------------------

def relocated_torrc(name: str, folder: Path, app_port: int) -> Path:
    """deploy/<name> with its service directory under ``folder`` and its port on ``app_port``."""
    text = (DEPLOY / name).read_text()
    service_dir = {"torrc": "/var/lib/tor/whistle/",
                   "torrc-single-hop": "/var/lib/tor-instances/whistle-1hop/whistle/"}[name]
    text = substitute(text, [(f"HiddenServiceDir {service_dir}", f"HiddenServiceDir {folder / 'hs'}/"),
                             ("127.0.0.1:8080", f"127.0.0.1:{app_port}")])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def tor_argv(tor: str, torrc: Path, folder: Path, *extra: str) -> list[str]:
    data = folder / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    return [tor, "-f", str(torrc), "--DataDirectory", str(data), "--RunAsDaemon", "0",
            "--Log", f"notice file {folder / 'tor.log'}", *extra]


def verify_config(tor: str, torrc: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*tor_argv(tor, torrc, folder), "--verify-config"], capture_output=True,
                          text=True, timeout=60)


def onion_address(public_key_file: Path) -> str:
    """The v3 address a service's ed25519 public key must have (rend-spec-v3 §6)."""
    blob = public_key_file.read_bytes()
    header = b"== ed25519v1-public: type0 ==\x00\x00\x00"
    assert blob.startswith(header) and len(blob) == 64, "not a v3 onion public key file"
    key = blob[32:]
    checksum = hashlib.sha3_256(b".onion checksum" + key + b"\x03").digest()[:2]
    return base64.b32encode(key + checksum + b"\x03").decode().lower() + ".onion"


# -- nginx --------------------------------------------------------------------------------

def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ONION_HOST)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(ONION_HOST)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def relocated_nginx(prefix: Path, app_port: int, https_port: int, http_port: int,
                    as_root: bool) -> Path:
    """An nginx prefix whose main config includes the shipped site config, moved there."""
    for sub in ("conf", "logs", "tmp", "ssl"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    cert, key = self_signed(prefix / "ssl")
    site = substitute((DEPLOY / "nginx.conf").read_text(), [
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),  # loopback IPv4 only in the test
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("/etc/ssl/whistle/fullchain.pem", str(cert)),
        ("/etc/ssl/whistle/privkey.pem", str(key)),
        ("/var/log/nginx/", f"{prefix / 'logs'}/"),
        ("proxy_pass http://127.0.0.1:8080;", f"proxy_pass http://127.0.0.1:{app_port};"),
    ])
    (prefix / "conf" / "whistle-site.conf").write_text(site)
    temp = prefix / "tmp"
    # What Debian's /etc/nginx/nginx.conf does around sites-enabled (including its http-level
    # access log in the "combined" format, which the site must override), minus the system paths.
    main = f"""{'user root;' if as_root else ''}
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'logs' / 'main-error.log'};
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    access_log {prefix / 'logs' / 'combined-access.log'} combined;
    include {prefix / 'conf' / 'whistle-site.conf'};
}}
"""
    path = prefix / "conf" / "nginx.conf"
    path.write_text(main)
    return path
