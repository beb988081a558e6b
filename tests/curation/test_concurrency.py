"""Writes that race: a register import in another process against curations, hide toggles and
network edits through the app; concurrent self-registrations against the limit and the cap;
the form's CSRF token; networks:write keys bound to their networks.

`run_import_race` is shared with tests/aws (the same race on DynamoDB, on moto's server).
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from chalicelib.config import Settings
from chalicelib.curation import auth, selfregistration
from chalicelib.demo.generate import generate_businesses
from chalicelib.routes import ROUTES
from chalicelib.services import Services
from chalicelib.store import open_store
from chalicelib.web.http import HttpRequest
from chalicelib.web.wsgi import WsgiApp
from tests.conftest import BIN
from tests.factories import network
from tests.standins.cvr_documents import company_document


class Api:
    """The WSGI app in this process: safe to call from many threads at once."""

    def __init__(self, settings: Settings) -> None:
        self.app = WsgiApp(ROUTES, Services(settings))

    def __call__(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        client: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        path, _, query = path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "REMOTE_ADDR": client,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": "127.0.0.1",
        }
        for name, value in (headers or {}).items():
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        answer: dict[str, Any] = {}

        def start(status: str, head: list[tuple[str, str]]) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), dict(head)

        out = b"".join(self.app(environ, start))
        return answer["status"], answer["headers"], out


def _json(key: str, **extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-API-Key": key, **extra}


def run_import_race(env: dict[str, str], tmp: Path, count: int = 600) -> dict[str, int]:
    """Seed `count` businesses, then run `mikrokort import` of a changed copy of every one in
    a second process while threads here curate (hide toggles with If-Match), edit a network's
    members and read public listings. Asserts nothing lost; returns the tallies."""
    settings = Settings.from_env(env)
    store = open_store(settings.store_url)
    store.create_table()
    businesses = generate_businesses(count, seed=11)
    store.upsert_businesses(businesses)
    store.upsert_networks([network("race-net", members=[])])
    admin = auth.create_key(store, "Race admin", ["admin"])
    changed = [b.model_copy(update={"name": f"{b.name} Ny"}) for b in businesses]
    file = tmp / "changed.jsonl"
    file.write_bytes(b"\n".join(orjson.dumps(company_document(b, samt_id=20)) for b in changed))
    api = Api(settings)
    cvrs = [b.id for b in businesses if store.get_business(b.id).public]  # type: ignore[union-attr]
    rng = random.Random(5)
    curated_ids = rng.sample(cvrs, min(60, len(cvrs)))
    member_ids = [c for c in cvrs if c not in curated_ids][:30]
    acked: dict[str, bool] = {}  # cvr -> the last acknowledged `hidden`
    members_acked: set[str] = set()
    tally = {"curations": 0, "member_edits": 0, "reads": 0, "5xx": 0, "412": 0, "raced": 0}
    done = threading.Event()
    lock = threading.Lock()  # guards the tallies of this test, nothing of the store

    def curate(cvrs: list[str]) -> None:
        for round_ in range(4):
            for cvr in cvrs:
                for _ in range(20):
                    status, head, _ = api("GET", f"/admin/businesses/{cvr}", headers=_json(admin))
                    hide = round_ % 2 == 0
                    body = orjson.dumps({"hidden": hide, "note": f"runde {round_}"})
                    status, head, _ = api(
                        "PUT",
                        f"/admin/businesses/{cvr}/curation",
                        body,
                        _json(admin, **{"If-Match": head["ETag"]}),
                    )
                    with lock:
                        tally["5xx"] += status >= 500
                        tally["412"] += status == 412
                    if status == 200:
                        with lock:
                            acked[cvr] = hide
                            tally["curations"] += 1
                            tally["raced"] += proc.poll() is None  # the import still running
                        break
                    assert status == 412, status

    def edit_members() -> None:
        for cvr in member_ids:
            status, _, _ = api(
                "PUT", f"/admin/networks/race-net/members/{cvr}", headers=_json(admin)
            )
            with lock:
                tally["5xx"] += status >= 500
            assert status == 200, status
            with lock:
                members_acked.add(cvr)
                tally["member_edits"] += 1

    def read() -> None:
        while not done.is_set():
            for path in (
                "/collections/businesses/items?limit=100",
                "/collections/businesses/items?bbox=11.0,54.5,12.6,55.3&limit=50",
                "/collections/networks/items",
            ):
                status, _, _ = api("GET", path)
                with lock:
                    tally["reads"] += 1
                    tally["5xx"] += status >= 500

    proc = subprocess.Popen(
        [str(BIN / "mikrokort"), "import", str(file), "--quiet"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    halves = [curated_ids[: len(curated_ids) // 2], curated_ids[len(curated_ids) // 2 :]]
    with ThreadPoolExecutor(6) as pool:
        readers = [pool.submit(read) for _ in range(2)]
        writers = [pool.submit(curate, h) for h in halves] + [pool.submit(edit_members)]
        for w in writers:
            w.result(timeout=300)
        _, err = proc.communicate(timeout=300)
        done.set()
        for r in readers:
            r.result(timeout=60)
    assert proc.returncode == 0, err
    assert tally["5xx"] == 0
    # the point of the test: curations were acknowledged while the import was writing
    assert tally["raced"] >= 10, tally

    # every acknowledged curation is stored, and the public sees no hidden business
    stored = store.get_businesses(cvrs)
    lost = [c for c, hide in acked.items() if stored[c].curated.hidden != hide]
    assert lost == []
    for cvr, hide in acked.items():
        assert (store.get_feature("businesses", cvr) is None) == hide
    # every register update landed too (none undone by a curation)
    assert [c for c in cvrs if not stored[c].name.endswith(" Ny")] == []
    # the network kept every acknowledged member, and the members' features say so
    net = store.get_network("race-net")
    assert net is not None and members_acked <= set(net.members)
    assert all("race-net" in stored[c].networks for c in members_acked)
    # the newest audit entry of each curated business is its stored state
    newest: dict[str, dict[str, Any]] = {}
    for entry in reversed(auth.audit_log(store, 1000)):
        newest[entry["target"]] = entry
    for cvr in acked:
        assert newest[cvr]["after"] == stored[cvr].curated.model_dump(mode="json")
    api.app.services.close()
    store.close()
    return tally


def test_an_import_in_another_process_loses_no_curation(tmp_path: Path) -> None:
    env = {"MIKROKORT_STORE": f"sqlite:///{tmp_path / 'race.db'}"}
    tally = run_import_race(env, tmp_path)
    assert tally["curations"] == 240 and tally["member_edits"] == 30
    assert tally["reads"] > 0 and tally["5xx"] == 0


# -- self-registration ------------------------------------------------------------------------

SUBMISSION = {
    "name": "Stege Erhverv",
    "municipalities": ["390"],
    "meeting_place_lon": 12.29,
    "meeting_place_lat": 54.99,
    "submitter_name": "Ole",
    "submitter_email": "ole@example.dk",
}


def _submit(store, client: str, i: int, settings: Settings) -> int:
    from chalicelib.domain.errors import MikrokortError

    req = HttpRequest(
        path="/networks/register",
        params={},
        headers={"content-type": "application/json"},
        base_url="http://127.0.0.1",
        method="POST",
        body=orjson.dumps({**SUBMISSION, "name": f"Netværk {i}"}),
        client=client,
        settings=settings,
    )
    try:
        return selfregistration.submit(store, req).status
    except MikrokortError as exc:
        return exc.status


def concurrent_submissions(store_url: str, workers: int = 30) -> None:
    """30 posts at once from one client accept exactly 5; then the queue holds at most 500."""
    settings = Settings(store_url=store_url)
    store = open_store(store_url)
    store.create_table()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(lambda i: _submit(store, "10.1.1.1", i, settings), range(30)))
    assert sorted(codes) == [202] * 5 + [429] * 25
    assert len(selfregistration.list_submissions(store, "pending")) == 5
    # near the cap: 40 posts from 40 clients at once fill the queue to exactly 500
    store.write_records({}, counters=[selfregistration_counter(490)])
    with ThreadPoolExecutor(min(workers, 20)) as pool:
        codes = list(pool.map(lambda i: _submit(store, f"10.2.0.{i}", i, settings), range(40)))
    assert codes.count(202) == 5  # 5 + 490 + 5 = 500
    queue = store.get_records(selfregistration.QUEUE, ["pending"])["pending"]["n"]
    assert queue == selfregistration.MAX_PENDING
    store.close()


def selfregistration_counter(n: int):
    """A counter move that stands for n submissions already waiting."""
    from chalicelib.store import Counter

    return Counter(selfregistration.QUEUE, "pending", n)


def test_concurrent_self_registrations_respect_the_limit_and_the_cap(tmp_path: Path) -> None:
    concurrent_submissions(f"sqlite:///{tmp_path / 'flood.db'}")


def test_a_decision_lands_once(tmp_path: Path) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'd.db'}")
    store = open_store(settings.store_url)
    assert _submit(store, "10.9.9.9", 1, settings) == 202
    [pending] = selfregistration.list_submissions(store, "pending")
    caller = auth.Caller("k", "Admin", ("admin",))
    results = []
    errors = []

    def decide() -> None:
        try:
            results.append(selfregistration.decide(store, caller, pending["id"], False))
        except Exception as exc:  # the losers of the race
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=decide) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1 and set(errors) == {"Conflict"}
    assert store.get_records(selfregistration.QUEUE, ["pending"])["pending"]["n"] == 0
    rejections = [e for e in auth.audit_log(store) if e["action"] == "submission.reject"]
    assert len(rejections) == 1


# -- CSRF -------------------------------------------------------------------------------------


def test_the_form_needs_its_csrf_token(tmp_path: Path) -> None:
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'csrf.db'}")
    api = Api(settings)
    status, head, page = api("GET", "/networks/register")
    assert status == 200 and head["Cache-Control"] == "no-store"
    cookie = head["Set-Cookie"].split(";", 1)[0]
    assert "HttpOnly" in head["Set-Cookie"] and "SameSite=Strict" in head["Set-Cookie"]
    token = page.decode().split("name='csrf' value='", 1)[1].split("'", 1)[0]
    form = {"name": "Møn Netværk", "municipalities": "390", "meeting_place_lon": "12,29",
            "meeting_place_lat": "54,99", "submitter_name": "Ole",
            "submitter_email": "ole@example.dk"}  # fmt: skip
    urlform = {"Content-Type": "application/x-www-form-urlencoded"}

    def post(fields: dict[str, str], cookie_header: str | None) -> tuple[int, bytes]:
        headers = {**urlform, **({"Cookie": cookie_header} if cookie_header else {})}
        status, _, body = api("POST", "/networks/register", urlencode(fields).encode(), headers)
        return status, body

    forged = [
        (form, None),  # no token, no cookie: another site's form
        (form, cookie),  # the cookie alone
        ({**form, "csrf": token}, None),  # the token alone
        ({**form, "csrf": token}, "mk_csrf=someone-elses"),  # another visitor's cookie
        ({**form, "csrf": "1." + token.split(".")[1]}, cookie),  # a changed time
        ({**form, "csrf": f"{int(time.time()) - 3 * 3600}.abc"}, cookie),  # expired
    ]
    for fields, jar in forged:
        status, body = post(fields, jar)
        assert status == 403 and "Formularen" in body.decode() and "form" in body.decode()
    status, body = post({**form, "csrf": token}, cookie)
    assert status == 202 and "Tak" in body.decode()
    # JSON needs no token (no browser sends it cross-site without a CORS preflight)
    status, _, _ = api(
        "POST",
        "/networks/register",
        orjson.dumps({**SUBMISSION, "name": "Via JSON"}),
        {"Content-Type": "application/json"},
    )
    assert status == 202
    api.app.services.close()


# -- key binding ------------------------------------------------------------------------------


def test_a_networks_write_key_edits_only_its_networks(tmp_path: Path) -> None:
    from chalicelib.domain.errors import InvalidParameter
    from chalicelib.domain.models import Curation

    settings = Settings(store_url=f"sqlite:///{tmp_path / 'keys.db'}")
    store = open_store(settings.store_url)
    shown, hidden = generate_businesses(2, seed=4)
    store.upsert_businesses([shown, hidden])
    store.curate_business(hidden.id, Curation(hidden=True))
    store.upsert_networks(
        [network("mine", members=[shown.id, hidden.id]), network("theirs", members=[shown.id])]
    )
    with pytest.raises(InvalidParameter):
        auth.create_key(store, "Ubundet", ["networks:write"])
    mine = auth.create_key(store, "Koordinator", ["networks:write"], ["mine"])
    admin = auth.create_key(store, "Admin", ["admin"])
    api = Api(settings)

    status, head, body = api("GET", "/admin/networks/mine", headers=_json(mine))
    assert status == 200 and orjson.loads(body)["members"] == [shown.id]  # hidden not shown
    status, _, body = api("GET", "/admin/networks/mine", headers=_json(admin))
    assert sorted(orjson.loads(body)["members"]) == sorted([shown.id, hidden.id])
    for method, path in [
        ("GET", "/admin/networks/theirs"),
        ("PUT", f"/admin/networks/theirs/members/{hidden.id}"),
        ("DELETE", f"/admin/networks/theirs/members/{shown.id}"),
    ]:
        assert api(method, path, headers=_json(mine))[0] == 403
    other = network("theirs", name="Overtaget").model_dump_json().encode()
    assert api("PUT", "/admin/networks/theirs", other, _json(mine, **{"If-Match": "x"}))[0] == 403
    new = network("new-one").model_dump_json().encode()
    assert api("POST", "/admin/networks", new, _json(mine))[0] == 403
    # a hidden business can neither be added nor removed by the coordinator
    assert api("DELETE", f"/admin/networks/mine/members/{hidden.id}", headers=_json(mine))[0] == 404
    # replacing its own network with the members it sees keeps the hidden one
    renamed = network("mine", name="Nyt navn", members=[shown.id]).model_dump_json().encode()
    status, _, body = api(
        "PUT", "/admin/networks/mine", renamed, _json(mine, **{"If-Match": head["ETag"]})
    )
    assert status == 200 and orjson.loads(body)["members"] == [shown.id]
    stored = store.get_network("mine")
    assert stored is not None and stored.name == "Nyt navn"
    assert sorted(stored.members) == sorted([shown.id, hidden.id])
    assert (
        api("DELETE", "/admin/networks/theirs", headers=_json(admin, **{"If-Match": "x"}))[0] == 412
    )
    api.app.services.close()
    store.close()
