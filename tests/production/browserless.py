"""A tiny HTTP client with one cookie jar, as a browser at Tor Browser's Safest level behaves:
forms, cookies, no script. Redirects are not followed (tests look at them). Standard library
only, so it talks to gunicorn and nginx exactly as any client would."""
from __future__ import annotations

import http.client
import re
import ssl
import uuid
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urlencode

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
TICKET_GROUP = re.compile(r'<span class="group">([0-9A-Z]{4})</span>')
TIMEOUT = 60.0


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def csrf(self) -> str:
        m = CSRF.search(self.text)
        assert m, f"no csrf token in a {self.status} page"
        return m.group(1) or m.group(2)

    def ticket(self) -> str | None:
        groups = TICKET_GROUP.findall(self.text)
        return "-".join(groups) if len(groups) == 5 else None


@dataclass
class Browser:
    """One visitor. ``port`` may change between requests: the cookie jar goes with the
    visitor, as when a load balancer sends the next request to another host."""

    port: int
    host_header: str = ""
    tls: bool = False
    cookies: dict[str, str] = field(default_factory=dict)
    user_agent: str = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
    extra_headers: dict[str, str] = field(default_factory=dict)

    def _connection(self) -> http.client.HTTPConnection:
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=TIMEOUT,
                                               context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        h = {"Host": self.host_header or f"127.0.0.1:{self.port}", "User-Agent": self.user_agent,
             "Connection": "close"} | self.extra_headers | (headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            val = rest.split(";", 1)[0]
            if not val or "Max-Age=0" in value or "01 Jan 1970" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val
        return Reply(resp.status, resp.headers, data)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str]) -> Reply:
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(self, path: str, fields: dict[str, str],
                       files: list[tuple[str, bytes, str]] | None = None) -> Reply:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                 .encode() for k, v in fields.items()]
        for name, content, ctype in files or []:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                         f'filename="{name}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
                         + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})
