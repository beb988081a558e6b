"""A CVR number in a path is eight ASCII digits: other Unicode digits neither reach a real
business ('١٠٠٠٠٠٠٤' is not 10000004) nor make a 500 ('1234567²'), on both stores."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from chalicelib.config import Settings
from chalicelib.routes import ROUTES
from chalicelib.services import Services
from chalicelib.store import open_store
from chalicelib.web.wsgi import WsgiApp
from tests.conftest import ADAPTERS, fresh_store_url
from tests.conftest import wsgi_call as call
from tests.factories import business

REAL = "10000004"


@pytest.fixture(scope="module", params=ADAPTERS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> WsgiApp:
    tmp_path: Path = tmp_path_factory.mktemp("ids")
    url = fresh_store_url(request, request.param, tmp_path)
    settings = Settings(store_url=url, blobs_url=str(tmp_path))
    store = open_store(settings.store_url)
    store.create_table()
    store.upsert_businesses([business(REAL)])
    return WsgiApp(ROUTES, Services(settings))


@pytest.mark.parametrize("cvr", ["١٠٠٠٠٠٠٤", "1234567²", "１００００００４", "1000000٤"])
@pytest.mark.parametrize("template", ["/collections/businesses/items/{}", "/businesses/{}/matches"])
def test_other_digits_are_no_cvr_number(app: WsgiApp, template: str, cvr: str) -> None:
    r = call(app, "GET", template.format(cvr))
    assert r["status"] == 404, r["body"][:200]
    assert orjson.loads(r["body"])["code"] == "NotFound"


def test_the_real_number_is_found(app: WsgiApp) -> None:
    assert call(app, "GET", f"/collections/businesses/items/{REAL}")["status"] == 200
    assert call(app, "GET", f"/businesses/{REAL}/matches")["status"] == 200
