"""HTML to PDF with WeasyPrint, fetching nothing from the network.

Reports and referral summaries are rendered from Jinja templates by the page layer and turned
into PDF here. The URL fetcher refuses every URL except inline ``data:`` ones, so a stray
``<img src="http://...">`` in a template can neither leak that a report was printed nor stall
the worker.
"""
from __future__ import annotations

from typing import Any


class ExternalFetchRefused(ValueError):
    pass


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    if url.startswith("data:"):
        from weasyprint import default_url_fetcher

        return dict(default_url_fetcher(url))
    raise ExternalFetchRefused(f"external resource refused in PDF: {url[:40]}")


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=html, url_fetcher=_no_fetch).write_pdf())
