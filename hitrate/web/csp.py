"""The Content-Security-Policy of each kind of answer (set by :mod:`.app` and :mod:`.pages`)."""

from __future__ import annotations

#: The pages' Content-Security-Policy: scripts from the server itself and inline ones carrying the response's nonce
#: (the Plotly figures), inline styles (Plotly sets them), images from data: URLs (Plotly's download), nothing
#: framed, no plugins, forms only to the server.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
#: Every other answer (JSON, scripts, styles): nothing to run or frame.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
#: Swagger UI and ReDoc: their scripts and styles come from jsDelivr, and their pages start them inline.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; "
    "worker-src blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
