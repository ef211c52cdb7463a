"""gunicorn settings for whistle (used by `whistle serve --prod`), e.g.
``gunicorn -c deploy/gunicorn.conf.py "whistle.app:create_app()"``.

No access log: request lines carry addresses and paths. Workers are preloaded so the app
fails fast (missing instance secrets) before any worker forks.
"""
import gunicorn.http.wsgi

from whistle.web.logging import configure_logging
from whistle.config import load_config

# No "Server: gunicorn/<version>" header (version disclosure; nothing needs it). gunicorn
# always writes the line, so drop it from the default header list.
gunicorn.http.wsgi.SERVER = ""
_default_headers = gunicorn.http.wsgi.Response.default_headers
if not getattr(_default_headers, "_whistle", False):
    def _without_server(self):  # noqa: ANN001, ANN202
        return [h for h in _default_headers(self) if not h.lower().startswith("server:")]

    _without_server._whistle = True
    gunicorn.http.wsgi.Response.default_headers = _without_server

bind = "127.0.0.1:8080"  # behind the onion service / reverse proxy only
workers = 2
threads = 4
worker_class = "gthread"
preload_app = True
accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = "warning"
# gunicorn's own error log can quote request URIs: route it through the scrubbing filter.
_scrubbed_stderr = {"class": "logging.StreamHandler", "filters": ["scrub"],
                    "formatter": "plain", "stream": "ext://sys.stderr"}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "whistle.web.logging.ScrubFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": _scrubbed_stderr},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "WARNING", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}
timeout = 120  # large encrypted uploads on slow Tor circuits
graceful_timeout = 30
limit_request_line = 8190
forwarded_allow_ips = "127.0.0.1"
proxy_allow_ips = "127.0.0.1"


def on_starting(server):  # noqa: ANN001 - gunicorn hook signature
    configure_logging(load_config().logs_dir)


def post_fork(server, worker):  # noqa: ANN001
    # Each worker opens its own database connections; the preloaded pool must not be shared.
    from whistle.web.state import EXTENSION_KEY

    server.app.wsgi().extensions[EXTENSION_KEY].engine.dispose(close=False)


def child_exit(server, worker):  # noqa: ANN001
    # A worker killed mid-request (SIGKILL, the OOM killer, a timeout) leaves the plaintext of
    # the upload it was cleaning and perhaps a committed file not yet moved into the store.
    # The master tidies both now, before the replacement worker serves anyone; start-up does
    # the same for a whole-service crash (whistle/app.py).
    from whistle.app import recover_after_crash

    recover_after_crash(server.app.wsgi())
