"""Reference data never undoes what people set: loading a municipality's name and boundary
again keeps the business contact an admin gave it, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from chalicelib.domain.models import MunicipalityContact
from chalicelib.domain.public import municipality_contact
from chalicelib.domain.reference import load_municipalities
from chalicelib.store import Store
from tests.conftest import ADAPTERS, fresh_store


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path)
    yield s
    s.close()


def _contact(store: Store, code: str) -> dict | None:
    raw = store.get_feature("municipalities", code)
    assert raw is not None
    return municipality_contact(orjson.loads(raw)["properties"])


def test_a_second_load_keeps_the_business_contact(store: Store) -> None:
    (m,) = load_municipalities(("376",))
    assert store.upsert_municipalities([m]).inserted == 1
    contact = MunicipalityContact(name="Erhvervsservice", email="erhverv@guldborgsund.dk")
    store.upsert_municipalities([m.model_copy(update={"business_contact": contact})])
    again = store.upsert_municipalities(load_municipalities(("376",)))
    assert again.unchanged == 1 and again.updated == 0
    assert _contact(store, "376") == contact.model_dump()


def test_a_changed_boundary_is_loaded_and_the_contact_stays(store: Store) -> None:
    (m,) = load_municipalities(("390",))
    contact = MunicipalityContact(name="Vordingborg Erhverv")
    store.upsert_municipalities([m.model_copy(update={"business_contact": contact})])
    renamed = m.model_copy(update={"name": "Vordingborg (ny)"})
    assert store.upsert_municipalities([renamed]).updated == 1
    raw = orjson.loads(store.get_feature("municipalities", "390") or b"{}")
    assert raw["properties"]["name"] == "Vordingborg (ny)"
    assert municipality_contact(raw["properties"]) == contact.model_dump()
    assert raw["id"] == raw["properties"]["kommunekode"] == "0390"
