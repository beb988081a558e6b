"""`mikrokort init` makes a store for the configured municipalities: their names and real DAGI
boundaries, again and again without undoing an admin's business contact; an unknown code or a
store from a newer version is a one-line error."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import orjson
import pytest

from chalicelib.domain.models import MunicipalityContact
from chalicelib.domain.public import municipality_contact
from chalicelib.domain.reference import municipality_codes
from chalicelib.store import open_store
from tests.conftest import ADAPTERS, run_cli, store_url


@pytest.fixture(params=ADAPTERS)
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    if request.param == "dynamodb":
        base.update(request.getfixturevalue("aws_env"))
    return {
        **base,
        "MIKROKORT_STORE": store_url(request.param, tmp_path),
        "MIKROKORT_BLOBS": str(tmp_path / "blobs"),
        "MIKROKORT_MUNICIPALITIES": "101,0376",
    }


def _names(url: str) -> dict[str, str]:
    from chalicelib.store import load_public_features

    store = open_store(url)
    try:
        features = load_public_features(store, "municipalities")
    finally:
        store.close()
    return {f["id"]: f["properties"]["name"] for f in features}


def test_init_loads_the_configured_municipalities_and_keeps_the_contact(env) -> None:
    first = run_cli(env, "init")
    assert first.code == 0, first.stderr
    assert "2 new" in first.stdout
    assert _names(env["MIKROKORT_STORE"]) == {"0101": "København", "0376": "Guldborgsund"}
    store = open_store(env["MIKROKORT_STORE"])
    raw = orjson.loads(store.get_feature("municipalities", "101") or b"{}")
    assert raw["geometry"]["type"] in ("Polygon", "MultiPolygon")  # the real boundary
    # an admin sets the business contact; init runs again (a second deployment step, cron)
    from chalicelib.domain.models import Municipality

    p = raw["properties"]
    contact = MunicipalityContact(name="Erhvervsservice", email="erhverv@kk.dk")
    store.upsert_municipalities(
        [
            Municipality(
                kommunekode="101",
                name=p["name"],
                region=p.get("region"),
                boundary=raw["geometry"],
                business_contact=contact,
            )
        ]
    )
    store.close()
    again = run_cli(env, "init")
    assert again.code == 0 and "2 unchanged" in again.stdout
    store = open_store(env["MIKROKORT_STORE"])
    kept = orjson.loads(store.get_feature("municipalities", "101") or b"{}")["properties"]
    store.close()
    assert municipality_contact(kept) == contact.model_dump()


def test_adding_a_municipality_later_is_one_command(env) -> None:
    assert run_cli(env, "init").code == 0
    more = run_cli({**env, "MIKROKORT_MUNICIPALITIES": "101,376,390"}, "init")
    assert more.code == 0 and "1 new" in more.stdout and "2 unchanged" in more.stdout


def test_an_unknown_code_is_named_and_nothing_is_written(env) -> None:
    done = run_cli({**env, "MIKROKORT_MUNICIPALITIES": "376,999"}, "init")
    assert done.code != 0 and "999" in done.stderr and "Traceback" not in done.stderr
    assert _names(env["MIKROKORT_STORE"]) == {}


def test_all_98_municipalities_ship() -> None:
    codes = set(municipality_codes())
    # DAGI also has Christiansø (0411), administered by the state, not a municipality
    assert len(codes - {"411"}) == 98 and {"101", "376", "390", "851"} <= codes


def test_a_store_from_a_newer_version_is_a_one_line_error(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    open_store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    base = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    done = run_cli({**base, "MIKROKORT_STORE": f"sqlite:///{db}"}, "init")
    assert done.code != 0 and "newer Mikrokort" in done.stderr
