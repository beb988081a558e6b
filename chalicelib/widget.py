"""The embeddable map widget: its built files, the demo page, and compact map data.

(Placeholder until the widget is built: every route answers 404.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import NotFound

if TYPE_CHECKING:
    from .http import HttpRequest, HttpResponse
    from .store import Store


def asset(req: HttpRequest, name: str) -> HttpResponse:
    raise NotFound(f"no widget file {name!r}")


def demo_page(req: HttpRequest) -> HttpResponse:
    raise NotFound("the widget demo page is not built")


def map_data(store: Store, req: HttpRequest, code: str) -> HttpResponse:
    raise NotFound("no map data yet")
