"""HTML to PDF with WeasyPrint, fetching nothing from the network.

Reports and referral summaries are rendered from Jinja templates by the page layer and turned
into PDF here. Only inline ``data:`` URLs are fetched (the charts), so a stray
``<img src="http://...">`` in a template can neither leak that a report was printed nor stall
the worker on a network time-out.
"""
from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",), allow_redirects=False, timeout=2)
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf())
