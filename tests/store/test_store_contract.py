"""The Store contract: every adapter must pass these, against an independent brute-force answer."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest

from chalicelib.demo.generate import generate_businesses, generate_networks
from chalicelib.domain.models import Business, Curation
from chalicelib.domain.privacy import public_business
from chalicelib.domain.reference import load_municipalities
from chalicelib.domain.text import search_fold
from chalicelib.store import FeatureQuery, Store
from tests.conftest import ADAPTERS, fresh_store
from tests.factories import business, network, personal


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = fresh_store(request, request.param, tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="module")
def sample() -> tuple[list[Business], list]:
    businesses = []
    for i, b in enumerate(generate_businesses(800, seed=7)):
        if i % 97 == 5:
            b = b.model_copy(update={"curated": Curation(hidden=True)})
        if i % 6 == 2:  # no employment figure in the register, as for many sole traders
            b = b.model_copy(update={"employees": None})
        businesses.append(b)
    return businesses, generate_networks(businesses, seed=7)


@pytest.fixture(scope="module", params=ADAPTERS)
def loaded(request: pytest.FixtureRequest, sample, tmp_path_factory) -> Iterator[Store]:
    """A store holding the sample; read-only for the tests that use it."""
    s = fresh_store(request, request.param, tmp_path_factory.mktemp("loaded"))
    businesses, networks = sample
    s.upsert_municipalities(load_municipalities(["376", "390"]))
    s.upsert_businesses(businesses)
    s.upsert_networks(networks)
    yield s
    s.close()


def _all_ids(store: Store, q: FeatureQuery, collection: str = "businesses") -> list[str]:
    ids: list[str] = []
    while True:
        page = store.query(collection, q)  # type: ignore[arg-type]
        ids += [orjson.loads(f)["id"] for f in page.features]
        if page.next_after is None:
            return ids
        q = q.model_copy(update={"after": page.next_after})


def _expected(sample, q: FeatureQuery) -> list[str]:
    """The brute-force answer: filter the public features in Python."""
    businesses, networks = sample
    members = {n.id: set(n.members) for n in networks}
    out = []
    for b in businesses:
        f = public_business(b)
        if f is None:
            continue
        if q.bbox is not None:
            if f["geometry"] is None:
                continue
            x, y = f["geometry"]["coordinates"]
            if not (q.bbox[0] <= x <= q.bbox[2] and q.bbox[1] <= y <= q.bbox[3]):
                continue
        if q.municipality and b.municipality != q.municipality:
            continue
        if q.industry:
            if q.industry.isalpha() and b.industry_section != q.industry:
                continue
            if q.industry.isdigit() and not (b.industry_code or "").startswith(q.industry):
                continue
        if q.status and b.status != q.status:
            continue
        if q.sizes is not None and (b.employees or "") not in q.sizes:
            continue
        if q.founded_from and not (b.founded and b.founded >= q.founded_from):
            continue
        if q.founded_to and not (b.founded and b.founded <= q.founded_to):
            continue
        if q.network and b.id not in members.get(q.network, set()):
            continue
        if q.q and search_fold(q.q) not in search_fold(b.name):
            continue
        out.append(b.id)
    return sorted(out)


def test_upsert_is_idempotent(store: Store, sample) -> None:
    businesses, _ = sample
    first = store.upsert_businesses(businesses)
    assert (first.inserted, first.updated) == (len(businesses), 0)
    before = store.query("businesses", FeatureQuery(limit=10_000)).features
    again = store.upsert_businesses([b.model_copy() for b in businesses])
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(businesses))
    assert store.query("businesses", FeatureQuery(limit=10_000)).features == before


def test_changed_business_is_updated_and_repeats_in_a_batch_are_merged(store: Store) -> None:
    store.upsert_businesses([business(name="Gammelt Navn ApS")])
    r = store.upsert_businesses([business(name="Mellem ApS"), business(name="Nyt Navn ApS")])
    assert (r.inserted, r.updated) == (0, 1)
    stored = store.get_business("10000004")
    assert stored is not None and stored.name == "Nyt Navn ApS"
    assert store.get_business("99999999") is None


def test_curated_fields_survive_a_register_update(store: Store) -> None:
    store.upsert_businesses([personal(curated=Curation(hidden=True, show_address=True))])
    store.upsert_businesses([personal(employees="5-9")])  # as a CVR refresh would send it
    stored = store.get_business("10000012")
    assert stored is not None
    assert stored.employees == "5-9"
    assert stored.curated.hidden and stored.curated.show_address


def test_hidden_businesses_are_never_served(loaded: Store, sample) -> None:
    businesses, _ = sample
    hidden = [b.id for b in businesses if b.curated.hidden]
    served = set(_all_ids(loaded, FeatureQuery(limit=500)))
    assert hidden and not served & set(hidden)
    assert all(loaded.get_feature("businesses", h) is None for h in hidden)
    assert len(served) == len(businesses) - len(hidden)


def test_paging_returns_every_feature_once_in_id_order(loaded: Store, sample) -> None:
    ids = _all_ids(loaded, FeatureQuery(limit=137))
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    assert ids == _expected(sample, FeatureQuery())


@pytest.mark.parametrize(
    "fields",
    [
        {"bbox": (11.85, 54.74, 11.90, 54.79)},  # a town centre: R*Tree path
        {"bbox": (11.0, 54.0, 13.0, 56.0)},  # the whole area: primary-key walk
        {"bbox": (12.0, 56.5, 12.1, 56.6)},  # empty sea
        {"municipality": "390"},
        {"industry": "F"},
        {"industry": "43"},
        {"industry": "433200"},
        {"status": "ceased"},
        {"founded_from": date(2010, 1, 1), "founded_to": date(2010, 1, 1)},
        {"founded_from": date(2015, 1, 1)},
        {"founded_to": date(2008, 6, 30)},
        {"q": "tømrer"},
        {"q": "HOLDING"},
        {"bbox": (11.5, 54.5, 12.2, 55.0), "industry": "I", "status": "active"},
        {"sizes": ("", "0", "1", "2-4", "5-9"), "municipality": "376"},  # the map's default
        {"sizes": ("10-19", "20-49", "50-99")},
        {"sizes": ("",), "bbox": (11.5, 54.5, 12.2, 55.0)},
        {"sizes": ("2-4",), "industry": "43", "status": "active"},
        {"sizes": ()},
    ],
)
def test_filters_match_brute_force(loaded: Store, sample, fields: dict) -> None:
    q = FeatureQuery(limit=50, **fields)
    ids = _all_ids(loaded, q)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == _expected(sample, q)
    counted = loaded.query("businesses", q, count=True).number_matched
    page = loaded.query("businesses", q)
    if counted is not None or page.next_after is None:  # exact where the adapter counts
        assert counted == len(_expected(sample, q))


def test_random_viewports_match_brute_force(loaded: Store, sample) -> None:
    rng = random.Random(3)
    for _ in range(15):
        w, h = rng.uniform(0.005, 0.6), rng.uniform(0.003, 0.3)
        x, y = rng.uniform(11.5, 12.5), rng.uniform(54.55, 55.15)
        q = FeatureQuery(bbox=(x, y, x + w, y + h), limit=1000)
        ids = _all_ids(loaded, q)
        assert len(ids) == len(set(ids)) and sorted(ids) == _expected(sample, q)
        paged = _all_ids(loaded, q.model_copy(update={"limit": 29}))
        assert paged == ids  # the same stable order, whatever the page size


def test_network_membership_is_served_and_filterable(loaded: Store, sample) -> None:
    _, networks = sample
    net = max(networks, key=lambda n: len(n.members))
    q = FeatureQuery(network=net.id, limit=10)
    assert sorted(_all_ids(loaded, q)) == _expected(sample, q)
    member = orjson.loads(loaded.get_feature("businesses", net.members[0]) or b"{}")
    assert net.id in member["properties"]["networks"].split("|")


def test_membership_changes_rerender_businesses(store: Store) -> None:
    store.upsert_businesses([business("10000004"), business("10000012")])
    store.upsert_networks([network(members=["10000004"])])
    feature = lambda cvr: orjson.loads(store.get_feature("businesses", cvr) or b"{}")  # noqa: E731
    assert feature("10000004")["properties"]["networks"] == "test-net"
    store.upsert_networks([network(members=["10000012"])])
    assert feature("10000004")["properties"]["networks"] == ""
    assert feature("10000012")["properties"]["networks"] == "test-net"
    again = store.upsert_networks([network(members=["10000012"])])
    assert again.unchanged == 1


def test_network_members_hide_hidden_businesses(store: Store) -> None:
    store.upsert_businesses(
        [business("10000004", curated=Curation(hidden=True)), business("10000012")]
    )
    store.upsert_networks([network(members=["10000004", "10000012"])])
    doc = orjson.loads(store.get_feature("networks", "test-net") or b"{}")
    assert doc["properties"]["member_count"] == 1
    assert _all_ids(store, FeatureQuery(network="test-net")) == ["10000012"]


def test_small_collections_filter_and_page(loaded: Store, sample) -> None:
    _, networks = sample
    ids = _all_ids(loaded, FeatureQuery(limit=4), "networks")
    assert ids == sorted(n.id for n in networks)
    in_390 = _all_ids(loaded, FeatureQuery(municipality="390"), "networks")
    assert in_390 == sorted(n.id for n in networks if "390" in n.municipalities)
    munis = _all_ids(loaded, FeatureQuery(bbox=(12.2, 54.9, 12.3, 55.0)), "municipalities")
    assert munis == ["0390"]
    assert loaded.get_feature("municipalities", "376") == loaded.get_feature(
        "municipalities", "0376"
    )
    assert loaded.get_feature("municipalities", "376") is not None
    assert loaded.get_feature("networks", "no-such-network") is None


def test_extent_covers_the_features(loaded: Store) -> None:
    ext = loaded.extent("businesses")
    assert ext.bbox is not None
    assert 11.5 < ext.bbox[0] < ext.bbox[2] < 12.6 and 54.5 < ext.bbox[1] < ext.bbox[3] < 55.2


def test_curation_with_a_stale_version_is_refused(store: Store) -> None:
    from chalicelib.domain.errors import Conflict, NotFound

    store.upsert_businesses([personal()])
    v2 = store.curate_business("10000012", Curation(show_address=True))
    with pytest.raises(Conflict):
        store.curate_business("10000012", Curation(hidden=True), expected_version=v2 - 1)
    v3 = store.curate_business("10000012", Curation(hidden=True), expected_version=v2)
    assert v3 == v2 + 1
    assert store.get_feature("businesses", "10000012") is None  # hidden now
    assert store.query("businesses", FeatureQuery(), count=True).number_matched == 0
    with pytest.raises(NotFound):
        store.curate_business("99999999", Curation())


def test_two_writers_racing_lose_no_update(store: Store) -> None:
    """A register refresh and a curator write the same business at once: both changes stay."""
    import threading

    store.upsert_businesses([business()])
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            for i in range(15):
                store.upsert_businesses([business(employees="5-9" if i % 2 else "10-19")])
            store.upsert_businesses([business(employees="5-9", name="Endeligt Navn ApS")])
        except BaseException as exc:
            errors.append(exc)

    def curate() -> None:
        try:
            for i in range(15):
                store.curate_business("10000004", Curation(note=f"note {i}", show_contact=True))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=refresh), threading.Thread(target=curate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    final = store.get_business("10000004")
    assert final is not None
    assert final.name == "Endeligt Navn ApS" and final.employees == "5-9"
    assert final.curated.note == "note 14" and final.curated.show_contact


def test_dynamodb_pages_use_at_most_8_queries(loaded: Store, sample) -> None:
    from chalicelib.store.dynamodb import DynamoDBStore
    from chalicelib.store.dynamodb.keys import MAX_QUERIES_PER_PAGE

    if not isinstance(loaded, DynamoDBStore):
        pytest.skip("a DynamoDB property")
    rng = random.Random(11)
    for _ in range(12):
        h = 10 ** rng.uniform(-2.5, -0.3)
        x, y = rng.uniform(11.5, 12.4), rng.uniform(54.6, 55.1)
        q = FeatureQuery(bbox=(x, y, x + 1.7 * h, y + h), limit=rng.choice([5, 40, 300]))
        ids: list[str] = []
        while True:
            loaded.calls.clear()
            page = loaded.query("businesses", q)
            assert loaded.calls["query"] <= MAX_QUERIES_PER_PAGE
            assert loaded.calls["scan"] == 0
            ids += [orjson.loads(f)["id"] for f in page.features]
            if page.next_after is None:
                break
            q = q.model_copy(update={"after": page.next_after})
        assert sorted(ids) == _expected(sample, q.model_copy(update={"after": None}))


def _number_matched(store: Store) -> int | None:
    return store.query("businesses", FeatureQuery(limit=1), count=True).number_matched


def test_a_business_that_moves_out_leaves_every_public_output(store: Store) -> None:
    store.upsert_businesses([business("10000004"), business("10000012")])
    store.upsert_networks([network(members=["10000004", "10000012"])])
    assert _number_matched(store) == 2
    moved = business("10000004", municipality="461", postcode="5000", outside_area=True)
    assert store.upsert_businesses([moved]).updated == 1
    assert store.get_feature("businesses", "10000004") is None
    assert _all_ids(store, FeatureQuery()) == ["10000012"]
    assert _number_matched(store) == 1
    doc = orjson.loads(store.get_feature("networks", "test-net") or b"{}")
    assert doc["properties"]["member_count"] == 1
    assert _all_ids(store, FeatureQuery(network="test-net")) == ["10000012"]
    kept = store.get_business("10000004")  # kept, with its history, not deleted
    assert kept is not None and kept.outside_area and kept.networks == ["test-net"]
    store.upsert_businesses([business("10000004")])  # and it moves back
    assert _all_ids(store, FeatureQuery()) == ["10000004", "10000012"]
    assert _number_matched(store) == 2


def test_get_businesses_reads_many_at_once(store: Store) -> None:
    ids = [f"1{i:07d}" for i in range(1, 260)]
    store.upsert_businesses([business(i) for i in ids])
    store.upsert_networks([network(members=ids[:3])])
    got = store.get_businesses([*ids, "99999999", "not-a-cvr"])
    assert sorted(got) == ids
    assert got[ids[0]].networks == ["test-net"] and got[ids[-1]].networks == []
    assert got[ids[5]].name == business(ids[5]).name


def test_founded_from_selects_new_registrations(store: Store) -> None:
    store.upsert_businesses(
        [
            business("10000004", founded=date(2026, 11, 1)),
            business("10000012", founded=date(2026, 10, 31)),
            business("10000020", founded=None),
            business("10000039", founded=date(2026, 11, 20), municipality="390"),
        ]
    )
    q = FeatureQuery(founded_from=date(2026, 11, 1))
    assert _all_ids(store, q) == ["10000004", "10000039"]
    assert _all_ids(store, q.model_copy(update={"municipality": "376"})) == ["10000004"]


def test_records_are_kept_listed_and_deleted(store: Store) -> None:
    runs = {f"2026-11-{d:02d}T02:00:00Z": {"day": d, "text": "ø"} for d in range(1, 31)}
    store.put_records("run", runs)
    store.put_records("other", {"2026-11-05T02:00:00Z": {"x": 1}})
    newest = store.list_records("run", limit=3, newest_first=True)
    assert [doc["day"] for _, doc in newest] == [30, 29, 28]
    assert [k for k, _ in store.list_records("run", limit=2)] == sorted(runs)[:2]
    assert len(store.list_records("run", limit=1000)) == 30
    keys = [f"key-{i}" for i in range(230)]
    store.put_records("cache", {k: {"i": i} for i, k in enumerate(keys)})
    got = store.get_records("cache", [*keys, "missing"])
    assert len(got) == 230 and got["key-7"] == {"i": 7}
    store.put_records("cache", {"key-7": {"i": 70}})
    assert store.get_records("cache", ["key-7"]) == {"key-7": {"i": 70}}
    store.delete_records("cache", keys[:200])
    assert sorted(store.get_records("cache", keys)) == sorted(keys[200:])
    assert store.get_records("run", ["key-201"]) == {}


def test_conditional_network_writes(store: Store) -> None:
    from chalicelib.domain.errors import Conflict, NotFound, PreconditionFailed

    store.upsert_businesses([business("10000004"), business("10000012")])
    first = store.put_network(network(members=["10000004"]), None, create=True)
    assert store.network_digest("test-net") == first
    with pytest.raises(Conflict):
        store.put_network(network(), None, create=True)
    with pytest.raises(PreconditionFailed):
        store.put_network(network(name="Stale"), "not-the-digest")
    second = store.put_network(network(name="Nyt navn", members=["10000012"]), first)
    assert second != first and store.network_digest("test-net") == second
    feature = lambda cvr: orjson.loads(store.get_feature("businesses", cvr) or b"{}")  # noqa: E731
    assert feature("10000012")["properties"]["networks"] == "test-net"
    assert feature("10000004")["properties"]["networks"] == ""
    with pytest.raises(PreconditionFailed):
        store.delete_network("test-net", first)  # a stale delete loses nothing
    store.delete_network("test-net", second)
    assert store.get_network("test-net") is None and store.network_digest("test-net") is None
    assert feature("10000012")["properties"]["networks"] == ""
    with pytest.raises(NotFound):
        store.delete_network("test-net", None)
    with pytest.raises(NotFound):
        store.put_network(network(), None)


def test_business_version_follows_writes(store: Store) -> None:
    assert store.business_version("10000004") is None
    store.upsert_businesses([business("10000004")])
    v1 = store.business_version("10000004")
    assert v1 is not None
    v2 = store.curate_business("10000004", Curation(show_contact=True), expected_version=v1)
    assert store.business_version("10000004") == v2 == v1 + 1


# CQL2 filters, each beside its answer written out by hand on the register fields (not through
# the filter code): every store must agree with it.
_FILTER_CASES = [
    (
        "founded >= DATE('2015-01-01')",
        lambda b, f: b.founded is not None and b.founded.isoformat() >= "2015-01-01",
    ),
    (
        "founded BETWEEN DATE('2010-01-01') AND '2010-12-31'",
        lambda b, f: (
            b.founded is not None and "2010-01-01" <= b.founded.isoformat() <= "2010-12-31"
        ),
    ),
    (
        "ceased < DATE('2024-01-01')",
        lambda b, f: b.ceased is not None and b.ceased.isoformat() < "2024-01-01",
    ),
    (
        "NOT (ceased < DATE('2024-01-01'))",
        lambda b, f: b.ceased is not None and b.ceased.isoformat() >= "2024-01-01",
    ),
    (
        "ceased IS NULL AND status = 'active'",
        lambda b, f: b.ceased is None and b.status == "active",
    ),
    ("industry_code LIKE '43%'", lambda b, f: (b.industry_code or "").startswith("43")),
    (
        "industry_text LIKE '%ømr%' OR industry_section = 'I'",
        lambda b, f: "ømr" in (b.industry_text or "") or b.industry_section == "I",
    ),
    ("name LIKE '%ApS'", lambda b, f: b.name.endswith("ApS")),
    ("municipality IN ('0390')", lambda b, f: b.municipality == "390"),
    (
        "employees IN ('2-4', '5-9') AND reklamebeskyttet = false",
        lambda b, f: b.employees in ("2-4", "5-9") and not b.reklamebeskyttet,
    ),
    ("address IS NULL", lambda b, f: f["properties"]["address"] is None),
    (
        "S_INTERSECTS(geometry, BBOX(11.85, 54.74, 11.90, 54.79)) AND industry_section = 'F'",
        lambda b, f: (
            f["geometry"] is not None
            and 11.85 <= f["geometry"]["coordinates"][0] <= 11.90
            and 54.74 <= f["geometry"]["coordinates"][1] <= 54.79
            and b.industry_section == "F"
        ),
    ),
    (
        "S_INTERSECTS(geometry, POLYGON((11.8 54.7, 12.0 54.7, 11.8 54.9, 11.8 54.7)))",
        lambda b, f: f["geometry"] is not None and _in_triangle(*f["geometry"]["coordinates"]),
    ),
    ("id = '64330128' OR id > '80000000'", lambda b, f: b.id == "64330128" or b.id > "80000000"),
]


def _in_triangle(x: float, y: float) -> bool:
    # the triangle (11.8 54.7), (12.0 54.7), (11.8 54.9): x >= 11.8, y >= 54.7, x + y <= 66.7
    return x >= 11.8 and y >= 54.7 and (x - 11.8) + (y - 54.7) <= 0.2 + 1e-12


@pytest.mark.parametrize(("text", "expected"), _FILTER_CASES, ids=[c[0] for c in _FILTER_CASES])
def test_cql2_filters_match_brute_force(loaded: Store, sample, text: str, expected) -> None:
    from chalicelib.features.cql import parse_filter
    from chalicelib.features.queryables import queryables

    businesses, _ = sample
    q = FeatureQuery(limit=7, filter=parse_filter(text, "cql2-text", queryables("businesses")))
    want = sorted(
        b.id for b in businesses if (f := public_business(b)) is not None and expected(b, f)
    )
    assert want, "the sample holds no business for this case: the case tests nothing"
    assert _all_ids(loaded, q) == want
    counted = loaded.query("businesses", q, count=True).number_matched
    if counted is not None:
        assert counted == len(want)
