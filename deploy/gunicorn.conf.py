"""gunicorn settings for whistle (used by `whistle serve --prod`), e.g.
``gunicorn -c deploy/gunicorn.conf.py "whistle.app:create_app()"``.

No access log: request lines carry addresses and paths. Workers are preloaded so the app
fails fast (missing instance secrets) before any worker forks.
"""
import gunicorn.http.wsgi

from whistle.web.logging import configure_logging
from whistle.config import load_config

# Suppress the "Server: gunicorn" header (version disclosure; nothing else reads it).
gunicorn.http.wsgi.SERVER = ""

bind = "127.0.0.1:8080"  # behind the onion service / reverse proxy only
workers = 2
threads = 4
worker_class = "gthread"
preload_app = True
accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = "warning"
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
