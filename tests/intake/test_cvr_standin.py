"""The CVR Elasticsearch stand-in speaks the real wire format and injects the faults it promises.

The CVR client's own tests trust this server, so its behaviour is pinned here through plain HTTP.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.standins.cvr_server import CvrStandIn

ROOT = Path(__file__).resolve().parents[2]
AUTH = ("mikrokort", "secret")
SEARCH = "/cvr-permanent/virksomhed/_search"
KOMMUNE = "Vrvirksomhed.virksomhedMetadata.nyesteBeliggenhedsadresse.kommune.kommuneKode"
LOADED = "Vrvirksomhed.sidstIndlaest"


def company(
    cvr: int,
    *,
    kommune: int = 376,
    loaded: str = "2025-11-04T10:23:05.412+01:00",
    status: str = "NORMAL",
    **top: Any,
) -> dict[str, Any]:
    """A small `Vrvirksomhed` object in the real shape (see example_scroll_response_page1)."""
    return {
        "cvrNummer": cvr,
        "enhedsNummer": 4000000000 + cvr,
        "samtId": 1,
        "sidstIndlaest": loaded,
        "sidstOpdateret": "2025-10-25T01:12:33.000+02:00",
        "reklamebeskyttet": False,
        "penheder": [{"pNummer": 1000000000 + cvr, "periode": {"gyldigFra": "2019-03-01"}}],
        "virksomhedMetadata": {
            "nyesteNavn": {"navn": f"Firma {cvr} ApS"},
            "nyesteBeliggenhedsadresse": {
                "landekode": "DK",
                "postnummer": 4800,
                "kommune": {"kommuneKode": kommune, "kommuneNavn": "GULDBORGSUND"},
            },
            "sammensatStatus": status,
        },
        **top,
    }


def filtered(*clauses: dict[str, Any], **body: Any) -> dict[str, Any]:
    """A search body with a bool filter, as the CVR client sends it."""
    return {"query": {"bool": {"filter": list(clauses)}}, **body}


@pytest.fixture
def standin() -> Iterator[CvrStandIn]:
    companies = [
        company(30000001, kommune=376, loaded="2025-11-04T10:23:05.412+01:00"),
        company(10000002, kommune=390, loaded="2026-11-20T03:12:45.000+01:00"),
        company(20000003, kommune=376, loaded="2026-11-21T00:00:00+00:00", status="Ophørt"),
        company(10000002, kommune=390, loaded="2026-11-22T08:00:00.000+01:00"),  # served twice
    ]
    with CvrStandIn(companies, scroll_ttl=30) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = AUTH
        yield session


def search(
    http: requests.Session, standin: CvrStandIn, body: dict[str, Any], **params: str
) -> requests.Response:
    return http.post(standin.url + SEARCH, json=body, params=params, timeout=5)


def scroll(http: requests.Session, standin: CvrStandIn, scroll_id: str) -> requests.Response:
    body = {"scroll": "5m", "scroll_id": scroll_id}
    return http.post(standin.url + "/_search/scroll", json=body, timeout=5)


def cvrs(response: requests.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [h["_source"]["Vrvirksomhed"]["cvrNummer"] for h in response.json()["hits"]["hits"]]


def big(n: int) -> list[dict[str, Any]]:
    return [company(10000000 + i) for i in range(n)]


# -- query DSL --------------------------------------------------------------------------------


def test_term_on_municipality_compares_numbers_and_numeric_strings(standin, http) -> None:
    assert cvrs(search(http, standin, filtered({"term": {KOMMUNE: "376"}}))) == [
        30000001,
        20000003,
    ]
    as_number = filtered({"term": {KOMMUNE: {"value": 390}}})
    assert cvrs(search(http, standin, as_number)) == [10000002, 10000002]
    either = filtered({"terms": {KOMMUNE: ["0390", 376]}})
    assert len(cvrs(search(http, standin, either))) == 4


def test_term_on_analysed_text_matches_only_lowercase_tokens(standin, http) -> None:
    field = "Vrvirksomhed.virksomhedMetadata.sammensatStatus"
    assert cvrs(search(http, standin, filtered({"term": {field: "NORMAL"}}))) == []
    assert len(cvrs(search(http, standin, filtered({"term": {field: "normal"}})))) == 3


def test_term_reaches_into_arrays_and_unknown_fields_match_nothing(standin, http) -> None:
    pnr = filtered({"term": {"Vrvirksomhed.penheder.pNummer": 1020000003}})
    assert cvrs(search(http, standin, pnr)) == [20000003]
    assert cvrs(search(http, standin, filtered({"term": {"cvrNummer": 20000003}}))) == []


def test_range_compares_timestamps_as_instants(standin, http) -> None:
    # 2026-11-20T03:12:45+01:00 is 02:12:45Z: gte an equal instant in another offset includes it
    since = filtered({"range": {LOADED: {"gte": "2026-11-20T02:12:45.000+00:00"}}})
    assert cvrs(search(http, standin, since)) == [10000002, 20000003, 10000002]
    strictly = filtered({"range": {LOADED: {"gt": "2026-11-20T02:12:45+00:00"}}})
    assert cvrs(search(http, standin, strictly)) == [20000003, 10000002]
    window = filtered(
        {"range": {LOADED: {"gte": "2026-11-20T00:00:00+00:00", "lt": "2026-11-21T01:00:00+01:00"}}}
    )
    assert cvrs(search(http, standin, window)) == [10000002]


def test_range_on_numbers_and_filters_combine(standin, http) -> None:
    body = filtered(
        {"range": {"Vrvirksomhed.cvrNummer": {"gte": 15000000, "lte": "30000001"}}},
        {"term": {KOMMUNE: 376}},
    )
    assert cvrs(search(http, standin, body)) == [30000001, 20000003]


def test_match_all_and_no_query_return_everything_in_insertion_order(standin, http) -> None:
    everything = [30000001, 10000002, 20000003, 10000002]
    assert cvrs(search(http, standin, {"query": {"match_all": {}}})) == everything
    assert cvrs(search(http, standin, {})) == everything


@pytest.mark.parametrize(
    "body",
    [
        {"query": {"match": {KOMMUNE: 376}}},
        {"query": {"bool": {"must": [{"term": {KOMMUNE: 376}}]}}},
        filtered({"prefix": {KOMMUNE: "37"}}),
        filtered({"range": {LOADED: {"gte": "now-1d", "format": "x"}}}),
        {"aggs": {"n": {"terms": {"field": KOMMUNE}}}},
        {"_source": ["Vrvirksomhed.*"]},
    ],
)
def test_unsupported_dsl_is_a_400_with_an_es_error(standin, http, body) -> None:
    r = search(http, standin, body)
    assert r.status_code == 400
    error = r.json()
    assert error["status"] == 400
    assert error["error"]["type"] and error["error"]["root_cause"][0]["reason"]


def test_sort_asc_desc_with_sort_values_and_stable_ties(standin, http) -> None:
    asc = search(http, standin, {"sort": [{"Vrvirksomhed.cvrNummer": "asc"}]})
    assert cvrs(asc) == [10000002, 10000002, 20000003, 30000001]
    hits = asc.json()["hits"]["hits"]
    assert [h["sort"] for h in hits] == [[10000002], [10000002], [20000003], [30000001]]
    # the tie keeps insertion order: the older record of 10000002 first
    assert hits[0]["_source"]["Vrvirksomhed"]["sidstIndlaest"].startswith("2026-11-20")
    desc = search(http, standin, {"sort": [{"Vrvirksomhed.cvrNummer": {"order": "desc"}}]})
    assert cvrs(desc) == [30000001, 20000003, 10000002, 10000002]


def test_doc_sort_is_insertion_order_and_timestamps_sort_as_epoch_millis(standin, http) -> None:
    doc = search(http, standin, {"sort": ["_doc"]})
    assert [h["sort"] for h in doc.json()["hits"]["hits"]] == [[0], [1], [2], [3]]
    by_time = search(http, standin, {"sort": [{LOADED: "desc"}], "size": 1})
    assert by_time.json()["hits"]["hits"][0]["sort"] == [1795330800000]  # 2026-11-22T07:00Z
    assert "sort" not in search(http, standin, {}).json()["hits"]["hits"][0]


def test_hits_have_the_es6_envelope(standin, http) -> None:
    r = search(http, standin, filtered({"term": {KOMMUNE: 376}}))
    assert r.headers["Content-Type"].startswith("application/json")
    page = r.json()
    assert page["timed_out"] is False and page["_shards"]["failed"] == 0
    assert page["hits"]["total"] == 2 and page["hits"]["max_score"] is None
    assert "_scroll_id" not in page
    hit = page["hits"]["hits"][0]
    assert hit["_index"] == "cvr-v-20220630" and hit["_type"] == "_doc"
    assert hit["_id"] == "4030000001" and hit["_score"] is None
    assert list(hit["_source"]) == ["Vrvirksomhed"]


def test_source_includes_keep_only_the_named_parts(standin, http) -> None:
    body = {
        "size": 1,
        "_source": [
            "Vrvirksomhed.cvrNummer",
            "Vrvirksomhed.penheder.pNummer",
            "Vrvirksomhed.virksomhedMetadata",
            "Vrvirksomhed.missingField",
        ],
    }
    source = search(http, standin, body).json()["hits"]["hits"][0]["_source"]
    full = standin.companies[0]
    assert source == {
        "Vrvirksomhed": {
            "cvrNummer": 30000001,
            "penheder": [{"pNummer": 1030000001}],
            "virksomhedMetadata": full["virksomhedMetadata"],
        }
    }


def test_plain_search_honours_from_and_size_and_caps_the_window(http) -> None:
    with CvrStandIn(big(25)) as standin:
        page = search(http, standin, {"from": 10, "size": 5, "sort": ["_doc"]})
        assert cvrs(page) == [10000010 + i for i in range(5)]
        assert page.json()["hits"]["total"] == 25
        assert len(cvrs(search(http, standin, {}))) == 10  # default size
        assert search(http, standin, {"from": 2999, "size": 1}).status_code == 200
        too_far = search(http, standin, {"from": 2990, "size": 11})
        assert too_far.status_code == 500
        error = too_far.json()["error"]
        assert "Result window is too large" in error["root_cause"][0]["reason"]
        assert search(http, standin, {"size": 3001}, scroll="1m").status_code == 500


# -- scroll -----------------------------------------------------------------------------------


def test_scroll_pages_through_everything_once_then_empty_pages(http) -> None:
    with CvrStandIn(big(23)) as standin:
        first = search(http, standin, {"size": 10}, scroll="5m")
        seen = cvrs(first)
        page = first.json()
        assert page["hits"]["total"] == 23
        pages = 1
        while page["hits"]["hits"]:
            r = scroll(http, standin, page["_scroll_id"])
            seen += cvrs(r)
            page = r.json()
            pages += 1
            assert page["hits"]["total"] == 23
        assert sorted(seen) == [10000000 + i for i in range(23)] and len(seen) == 23
        assert pages == 4  # 10 + 10 + 3, then the empty page
        assert cvrs(scroll(http, standin, page["_scroll_id"])) == []  # still empty
        cleared = http.delete(
            standin.url + "/_search/scroll", json={"scroll_id": [page["_scroll_id"]]}, timeout=5
        )
        assert cleared.json() == {"succeeded": True, "num_freed": 1}
        assert scroll(http, standin, page["_scroll_id"]).status_code == 404
        again = http.delete(
            standin.url + "/_search/scroll", json={"scroll_id": page["_scroll_id"]}, timeout=5
        )
        assert again.status_code == 404 and again.json()["num_freed"] == 0


def test_scroll_snapshots_matches_and_keeps_projection(standin, http) -> None:
    body = filtered({"term": {KOMMUNE: 376}}, size=1, _source=["Vrvirksomhed.cvrNummer"])
    first = search(http, standin, body, scroll="1m")
    standin.add(company(40000004, kommune=376))
    standin.replace_all([])
    second = scroll(http, standin, first.json()["_scroll_id"])
    assert cvrs(first) + cvrs(second) == [30000001, 20000003]
    assert second.json()["hits"]["hits"][0]["_source"] == {"Vrvirksomhed": {"cvrNummer": 20000003}}
    assert cvrs(scroll(http, standin, second.json()["_scroll_id"])) == []
    assert cvrs(search(http, standin, {})) == []


def test_extra_non_record_hit_on_the_first_page(standin, http) -> None:
    extra = {"_source": {"NewestRetrievedFileTimestamp": "2026-11-20T03:00:00.000+01:00"}}
    standin.extra_hit_on_first_page = extra
    first = search(http, standin, {"size": 2}, scroll="1m").json()
    hits = first["hits"]["hits"]
    assert hits[0]["_source"] == extra["_source"] and hits[0]["_index"] == "cvr-v-20220630"
    assert len(hits) == 3 and first["hits"]["total"] == 4
    rest = scroll(http, standin, first["_scroll_id"])
    assert cvrs(rest) == [20000003, 10000002]


def test_bad_or_missing_scroll_ids(standin, http) -> None:
    assert scroll(http, standin, "not-a-scroll-id").status_code == 400
    missing = http.post(standin.url + "/_search/scroll", json={"scroll": "1m"}, timeout=5)
    assert missing.status_code == 400


def test_scroll_expires_when_unused_longer_than_the_ttl(http) -> None:
    with CvrStandIn(big(5), scroll_ttl=0.3) as standin:
        first = search(http, standin, {"size": 2}, scroll="5m").json()
        time.sleep(0.5)
        r = scroll(http, standin, first["_scroll_id"])
        assert r.status_code == 404
        error = r.json()["error"]
        assert error["root_cause"][0]["type"] == "search_context_missing_exception"
        assert r.json()["status"] == 404


def test_expire_scrolls_on_purpose(standin, http) -> None:
    first = search(http, standin, {"size": 1}, scroll="5m").json()
    standin.expire_scrolls()
    assert scroll(http, standin, first["_scroll_id"]).status_code == 404
    assert standin.open_scrolls == 0


def test_scroll_dies_after_n_pages(standin, http) -> None:
    standin.expire_scroll_after_pages(2)
    first = search(http, standin, {"size": 1}, scroll="5m").json()
    second = scroll(http, standin, first["_scroll_id"])
    assert cvrs(second) == [10000002]
    third = scroll(http, standin, second.json()["_scroll_id"])
    assert third.status_code == 404
    assert third.json()["error"]["root_cause"][0]["type"] == "search_context_missing_exception"


# -- HTTP, auth and routes --------------------------------------------------------------------


def test_wrong_or_missing_credentials_get_an_html_401(standin) -> None:
    for auth in (None, ("mikrokort", "wrong")):
        r = requests.post(standin.url + SEARCH, json={}, auth=auth, timeout=5)
        assert r.status_code == 401
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert r.text.lstrip().startswith("<html>")
        with pytest.raises(ValueError):
            r.json()


def test_forbidden_is_an_html_403(standin, http) -> None:
    standin.forbidden = True
    r = search(http, standin, {})
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html")


def test_unknown_paths_and_methods_answer_like_es(standin, http) -> None:
    r = http.post(standin.url + "/nope/_search", json={}, timeout=5)
    assert r.status_code == 404 and r.json()["error"]["type"] == "index_not_found_exception"
    assert http.put(standin.url + "/_search/scroll", json={}, timeout=5).status_code == 405
    plain = http.post(standin.url + SEARCH, data="{}", timeout=5)  # no Content-Type: ES 6 refuses
    assert plain.status_code == 406


def test_keep_alive_and_request_log(standin, http) -> None:
    search(http, standin, filtered({"term": {KOMMUNE: 376}}), scroll="5m")
    search(http, standin, {})
    http.delete(standin.url + "/_search/scroll", json={"scroll_id": "_all"}, timeout=5)
    assert standin.connections == 1
    assert standin.requests == [("POST", SEARCH), ("POST", SEARCH), ("DELETE", "/_search/scroll")]
    assert standin.bodies[0] == filtered({"term": {KOMMUNE: 376}})
    assert standin.bodies[1] == {}
    assert standin.bodies[2] == {"scroll_id": "_all"}
    assert standin.search_bodies == standin.bodies[:2]
    assert standin.params[0] == {"scroll": "5m"}


# -- faults -----------------------------------------------------------------------------------


def test_fail_next_gives_n_es_errors_then_recovers(standin, http) -> None:
    standin.fail_next(2)
    for _ in range(2):
        r = search(http, standin, {})
        assert r.status_code == 500 and r.json()["status"] == 500
    assert search(http, standin, {}).status_code == 200
    assert standin.faults["fail:500"] == 2


def test_fail_next_429_says_when_to_retry(standin, http) -> None:
    standin.fail_next(1, status=429, reset_seconds=7)
    r = http.delete(standin.url + "/_search/scroll", json={"scroll_id": "_all"}, timeout=5)
    assert r.status_code == 429 and r.headers["x-ratelimit-reset"] == "7"
    assert r.json()["error"]["type"] == "es_rejected_execution_exception"
    standin.fail_next(1, status=429)
    assert search(http, standin, {}).headers["x-ratelimit-reset"] == "1"


def test_reset_next_cuts_the_page_and_advances_the_scroll(http) -> None:
    with CvrStandIn(big(6)) as standin:
        first = search(http, standin, {"size": 2}, scroll="5m").json()
        standin.reset_next(1)
        with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            scroll(http, standin, first["_scroll_id"])
        # like ES, the lost page is gone from the scroll: a retry gets the one after it
        assert cvrs(scroll(http, standin, first["_scroll_id"])) == [10000004, 10000005]
        assert standin.faults["reset"] == 1
        assert standin.pages_served == 2


def test_reset_next_without_advancing_the_scroll(http) -> None:
    with CvrStandIn(big(4)) as standin:
        standin.reset_next(1, advance_scroll=False)
        with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            search(http, standin, {"size": 2}, scroll="5m")
        first = search(http, standin, {"size": 2}, scroll="5m").json()
        assert cvrs(scroll(http, standin, first["_scroll_id"])) == [10000002, 10000003]


def test_delay_slows_every_answer(standin, http) -> None:
    standin.delay = 0.3
    started = time.monotonic()
    search(http, standin, {})
    assert time.monotonic() - started >= 0.3


def test_pause_after_pages_blocks_until_resume(http) -> None:
    with CvrStandIn(big(6)) as standin:
        standin.pause_after_pages(2)
        first = search(http, standin, {"size": 2}, scroll="5m").json()
        second = scroll(http, standin, first["_scroll_id"])
        assert standin.pages_served == 2
        assert cvrs(second) == [10000002, 10000003]
        results: list[requests.Response] = []
        with requests.Session() as other:
            other.auth = AUTH
            worker = threading.Thread(
                target=lambda: results.append(scroll(other, standin, first["_scroll_id"]))
            )
            worker.start()
            assert standin.paused.wait(5)
            time.sleep(0.2)
            assert not results and standin.pages_served == 2
            standin.resume()
            worker.join(5)
        assert cvrs(results[0]) == [10000004, 10000005]
        assert not standin.paused.is_set() and standin.pages_served == 3


def test_stop_releases_a_paused_request(http) -> None:
    standin = CvrStandIn(big(2))
    standin.start()
    standin.pause_after_pages(0)

    def blocked() -> None:
        with contextlib.suppress(requests.RequestException):
            search(http, standin, {})

    worker = threading.Thread(target=blocked)
    worker.start()
    assert standin.paused.wait(5)
    standin.stop()
    worker.join(5)
    assert not worker.is_alive()


# -- script mode ------------------------------------------------------------------------------


def test_runs_as_a_script_from_jsonl(tmp_path) -> None:
    lines = [
        json.dumps(company(10000001)),
        json.dumps({"_source": {"Vrvirksomhed": company(10000002)}}),
    ]
    path = tmp_path / "companies.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["-m", "tests.standins.cvr_server", "--port", "0", "--jsonl", str(path)]
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "serving on" in line, line
        url = line.rsplit(" ", 1)[-1].strip()
        r = requests.post(url + SEARCH, json={}, auth=AUTH, timeout=5)
        assert cvrs(r) == [10000001, 10000002]
    finally:
        proc.terminate()
        proc.wait(timeout=5)


# -- production units (the `produktionsenhed` index) -----------------------------------------

UNITS = "/cvr-permanent/produktionsenhed/_search"
UNIT_KOMMUNE = (
    "VrproduktionsEnhed.produktionsEnhedMetadata.nyesteBeliggenhedsadresse.kommune.kommuneKode"
)


def p_numbers(response: requests.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [h["_source"]["VrproduktionsEnhed"]["pNummer"] for h in response.json()["hits"]["hits"]]


def test_every_company_has_a_unit_at_its_seat_from_its_newest_copy(standin, http) -> None:
    r = http.post(standin.url + UNITS, json={"sort": [{"VrproduktionsEnhed.pNummer": "asc"}]})
    # 10000002 is indexed twice: one unit, from the copy loaded last
    assert p_numbers(r) == [1010000002, 1020000003, 1030000001]
    units = {u["pNummer"]: u for u in standin.units}
    twice = units[1010000002]
    assert twice["sidstIndlaest"] == "2026-11-22T08:00:00.000+01:00"
    assert twice["produktionsEnhedMetadata"]["nyesteCvrNummerRelation"] == 10000002
    assert units[1030000001]["produktionsEnhedMetadata"]["sammensatStatus"] == "Aktiv"
    assert units[1020000003]["produktionsEnhedMetadata"]["sammensatStatus"] == "Ophørt"
    hit = r.json()["hits"]["hits"][0]
    assert list(hit["_source"]) == ["VrproduktionsEnhed"] and hit["_id"] == "4110000002"


def test_units_filter_by_their_own_municipality_and_project_their_source(standin, http) -> None:
    body = filtered(
        {"terms": {UNIT_KOMMUNE: [390]}},
        _source=["VrproduktionsEnhed.pNummer", "VrproduktionsEnhed.virksomhedsrelation"],
    )
    r = http.post(standin.url + UNITS, json=body, timeout=5)
    assert p_numbers(r) == [1010000002]
    source = r.json()["hits"]["hits"][0]["_source"]["VrproduktionsEnhed"]
    assert set(source) == {"pNummer", "virksomhedsrelation"}  # no participants unless asked


def test_units_given_apart_from_the_companies(http) -> None:
    unit = {
        "pNummer": 1999012341,
        "enhedsNummer": 4012345689,
        "produktionsEnhedMetadata": {"nyesteCvrNummerRelation": 99012358},
    }
    with CvrStandIn([company(30000001)], units=[{"VrproduktionsEnhed": unit}]) as standin:
        r = http.post(standin.url + UNITS, json={}, timeout=5)
        assert p_numbers(r) == [1999012341]  # explicit units: no seat units derived
        standin.replace_units([], seat_units=True)
        assert p_numbers(http.post(standin.url + UNITS, json={}, timeout=5)) == [1030000001]
        standin.add({"_source": {"VrproduktionsEnhed": unit}})
        assert len(standin.units) == 2 and len(standin.companies) == 1
        bad = http.post(standin.url + UNITS, json={"sort": [{"Vrvirksomhed.cvrNummer": "asc"}]})
        assert bad.status_code == 400  # a unit search sorts on the unit's own fields
        assert standin.unit_search_bodies[-1]["sort"] == [{"Vrvirksomhed.cvrNummer": "asc"}]
        assert standin.search_bodies == []
