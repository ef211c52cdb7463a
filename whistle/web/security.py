"""Security headers on every response, and the CSRF wiring.

Reporter pages must work in Tor Browser at "Safest" (no JavaScript), so the policy allows
nothing but our own stylesheet and images, and forms posting back to us.
"""
from __future__ import annotations

from flask import Flask, Request, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from whistle.config import Config

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")

PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "bluetooth", "browsing-topics", "camera", "display-capture",
    "encrypted-media", "fullscreen", "geolocation", "gyroscope", "hid", "idle-detection",
    "interest-cohort", "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
    "publickey-credentials-get", "screen-wake-lock", "serial", "sync-xhr", "usb",
    "xr-spatial-tracking",
))

STATIC_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    # no-store everywhere: a shared or seized device must not hold copies of case pages.
    "Cache-Control": "no-store, max-age=0",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}

csrf = CSRFProtect()


def is_onion_host(req: Request) -> bool:
    host = (req.host or "").split(":", 1)[0].rstrip(".").lower()
    return host.endswith(".onion")


def apply_headers(response: Response, config: Config, req: Request | None) -> Response:
    for name, value in STATIC_HEADERS.items():
        response.headers[name] = value
    response.headers.pop("Expires", None)
    response.headers.pop("Last-Modified", None)  # ETag/Last-Modified would let caches revalidate
    response.headers.pop("ETag", None)
    response.headers.pop("Server", None)
    if config.onion_location and req is not None and not is_onion_host(req):
        # Tor Browser offers the onion on the clearnet site; path kept, query dropped.
        response.headers["Onion-Location"] = config.onion_location.rstrip("/") + req.path
    return response


def init_security(app: Flask, config: Config) -> None:
    app.config.update(
        WTF_CSRF_ENABLED=True,
        # The token lives as long as the session; the session's own timeouts bound it.
        WTF_CSRF_TIME_LIMIT=None,
        # Strict mode checks Referer on HTTPS, but we send no-referrer; SameSite=Strict cookies
        # plus the token already stop cross-site posts.
        WTF_CSRF_SSL_STRICT=False,
    )
    csrf.init_app(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        return apply_headers(response, config, request)
