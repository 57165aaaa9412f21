"""The web app: `inferonomics serve` starts it on localhost; `create_app()` builds it (FastAPI, ASGI).

JSON API under `/api` (OpenAPI schema and docs at `/docs`), and one page at `/` that draws the
frontier, the roofline, the step time, memory, price sheets, simulations and searches with the Plotly
JS bundled in the Python `plotly` package: the page loads nothing from the internet.
"""

from inferonomics.web.app import create_app

__all__ = ["create_app"]
