"""The write side through the app in-process: API keys, If-Match, audit, curation,
municipality contacts, network self-registration with moderation, and hardening."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import AppTransport, cli

NET = {
    "id": "guldborgsund-erhverv",
    "name": "Guldborgsund Erhvervsnetværk",
    "municipalities": ["376"],
    "meeting_place": {"lon": 11.87, "lat": 54.77},
    "members": [],
}


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, app_transport: AppTransport
) -> Iterator[dict[str, str]]:
    """A seeded demo store with three keys, made by the commands' own code, and the app on it."""
    folder = tmp_path_factory.mktemp("admin")
    env = {"MIKROKORT_STORE": f"sqlite:///{folder / 'db.sqlite'}",
           "MIKROKORT_BLOBS": f"file:///{folder / 'blobs'}"}  # fmt: skip
    cli(env, "seed", "--demo", "--count", "400", "--no-snapshot")
    admin = cli(env, "keys", "create", "--name", "Erhvervsafdelingen", "--scope", "admin")
    coordinator = cli(env, "keys", "create", "--name", "Netværk", "--scope", "networks:write",
                      "--network", NET["id"])  # fmt: skip
    revoked = cli(env, "keys", "create", "--name", "Gammel", "--scope", "admin")
    cli(env, "keys", "revoke", "--id", revoked.split("_")[1])
    url = app_transport.add("admin", env)
    yield {"url": url, "admin": admin, "coordinator": coordinator, "revoked": revoked,
           "store": env["MIKROKORT_STORE"]}  # fmt: skip


def _post_form(client, url: str, data: dict[str, str], **kw):
    """A form post as a browser sends it: with the token and the cookie of the form it read."""
    page = client.get(url, timeout=10)
    token = re.search(r"name='csrf' value='([^']+)'", page.text).group(1)
    headers = {"Cookie": page.headers["Set-Cookie"].split(";", 1)[0], **kw.pop("headers", {})}
    return client.post(url, data={**data, "csrf": token}, headers=headers, timeout=10, **kw)


def _h(key: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json", **extra}
    if key:
        headers["X-API-Key"] = key
    return headers


def test_keys_401_403_and_revoked(site: dict[str, str], http: requests.Session) -> None:
    url = site["url"] + "/admin/audit"
    cases = [
        (None, 401),
        ("mk_nothing_here", 401),
        ("not-even-a-key", 401),
        (site["coordinator"], 403),  # networks:write may not read the audit log
        (site["revoked"], 401),
        (site["admin"], 200),
    ]
    for key, status in cases:
        r = http.get(url, headers=_h(key), timeout=10)
        assert r.status_code == status, (key, r.text)
        if status != 200:
            assert r.json()["code"] in ("Unauthorized", "Forbidden")
            assert "Traceback" not in r.text
    bearer = http.get(url, headers={"Authorization": f"Bearer {site['admin']}"}, timeout=10)
    assert bearer.status_code == 200


def test_keys_are_stored_only_as_hashes(site: dict[str, str]) -> None:
    import sqlite3

    db = site["store"].removeprefix("sqlite:///")
    stored = b"".join(r[0] for r in sqlite3.connect(db).execute("SELECT doc FROM records"))
    for key in (site["admin"], site["coordinator"]):
        assert key.split("_", 2)[2].encode() not in stored


def test_network_lifecycle_with_if_match(site: dict[str, str], http: requests.Session) -> None:
    base, key = site["url"], site["coordinator"]
    created = http.post(f"{base}/admin/networks", json=NET, headers=_h(key), timeout=10)
    assert created.status_code == 201, created.text
    etag = created.headers["ETag"]
    again = http.post(f"{base}/admin/networks", json=NET, headers=_h(key), timeout=10)
    assert again.status_code == 409
    path = f"{base}/admin/networks/{NET['id']}"
    changed = {**NET, "name": "Nyt navn"}
    assert http.put(path, json=changed, headers=_h(key), timeout=10).status_code == 428
    stale = http.put(path, json=changed, headers=_h(key, **{"If-Match": '"stale"'}), timeout=10)
    assert stale.status_code == 412 and stale.json()["code"] == "PreconditionFailed"
    ok = http.put(path, json=changed, headers=_h(key, **{"If-Match": etag}), timeout=10)
    assert ok.status_code == 200 and ok.headers["ETag"] != etag
    lost = http.put(path, json={**NET, "name": "Tabt"}, headers=_h(key, **{"If-Match": etag}))
    assert lost.status_code == 412  # the second writer with the old ETag loses nothing
    public = http.get(f"{base}/collections/networks/items/{NET['id']}", timeout=10).json()
    assert public["properties"]["name"] == "Nyt navn"
    member = http.get(f"{base}/collections/businesses/items", params={"limit": 1}).json()
    cvr = member["features"][0]["id"]
    add = http.put(f"{path}/members/{cvr}", headers=_h(key), timeout=10)
    assert add.status_code == 200 and cvr in add.json()["members"]
    feature = http.get(f"{base}/collections/businesses/items/{cvr}", timeout=10).json()
    assert NET["id"] in feature["properties"]["networks"]
    assert http.put(f"{path}/members/99999999", headers=_h(key)).status_code == 404
    gone = http.delete(path, headers=_h(key, **{"If-Match": add.headers["ETag"]}), timeout=10)
    assert gone.status_code == 204
    assert http.get(f"{base}/collections/networks/items/{NET['id']}").status_code == 404
    log = http.get(f"{base}/admin/audit", headers=_h(site["admin"]), timeout=10).json()
    actions = [e["action"] for e in log["entries"] if e["target"].startswith(NET["id"])]
    assert {"network.create", "network.update", "network.member.add", "network.delete"} <= set(
        actions
    )
    update = next(e for e in log["entries"] if e["action"] == "network.update")
    assert update["before"]["name"] == NET["name"] and update["after"]["name"] == "Nyt navn"
    assert update["who"].startswith("Netværk (")


def test_curation_needs_the_current_version(site: dict[str, str], http: requests.Session) -> None:
    base, key = site["url"], site["admin"]
    cvr = http.get(f"{base}/collections/businesses/items", params={"limit": 1}).json()["features"][
        0
    ]["id"]
    read = http.get(f"{base}/admin/businesses/{cvr}", headers=_h(key), timeout=10)
    assert read.status_code == 200 and read.json()["id"] == cvr
    etag = read.headers["ETag"]
    path = f"{base}/admin/businesses/{cvr}/curation"
    hide = {"hidden": True, "note": "bad om at blive skjult"}
    done = http.put(path, json=hide, headers=_h(key, **{"If-Match": etag}), timeout=10)
    assert done.status_code == 200, done.text
    assert http.get(f"{base}/collections/businesses/items/{cvr}").status_code == 404
    stale = http.put(path, json={}, headers=_h(key, **{"If-Match": etag}), timeout=10)
    assert stale.status_code == 412
    bad = http.put(
        path, json={"hidden": "maybe"}, headers=_h(key, **{"If-Match": etag}), timeout=10
    )
    assert bad.status_code == 422 and bad.json()["parameter"] == "hidden"
    extra = http.put(
        path, json={"vip": True}, headers=_h(key, **{"If-Match": done.headers["ETag"]})
    )
    assert extra.status_code == 422 and extra.json()["parameter"] == "vip"
    big = http.put(
        path, data=b'{"note": "' + b"x" * 600_000 + b'"}', headers=_h(key, **{"If-Match": "v1"})
    )
    assert big.status_code == 413
    not_json = http.put(
        path,
        data=b"hidden=true",
        headers={
            "X-API-Key": key,
            "Content-Type": "text/plain",
            "If-Match": done.headers["ETag"],
        },
    )
    assert 400 <= not_json.status_code < 500
    show = http.put(path, json={}, headers=_h(key, **{"If-Match": done.headers["ETag"]}))
    assert show.status_code == 200
    assert http.get(f"{base}/collections/businesses/items/{cvr}").status_code == 200


def test_municipality_contact_is_public(site: dict[str, str], http: requests.Session) -> None:
    base = site["url"]
    contact = {"name": "Erhvervsservice", "email": "erhverv@guldborgsund.example",
               "phone": "+45 54 73 10 00"}  # fmt: skip
    path = f"{base}/admin/municipalities/376/contact"
    assert http.put(path, json=contact, headers=_h(site["coordinator"])).status_code == 403
    r = http.put(path, json=contact, headers=_h(site["admin"]), timeout=10)
    assert r.status_code == 200, r.text
    m = http.get(f"{base}/collections/municipalities/items/376", timeout=10).json()
    assert m["properties"]["business_contact_email"] == contact["email"]
    feed = http.get(f"{base}/municipalities/376/new-businesses", timeout=10).json()
    assert feed["municipality"]["business_contact"]["name"] == "Erhvervsservice"
    bad = http.put(path, json={**contact, "email": "not-an-address"}, headers=_h(site["admin"]))
    assert bad.status_code == 422 and bad.json()["parameter"] == "email"


FORM = {
    "name": "Vordingborg Iværksættere",
    "description": "Vi mødes første torsdag i måneden.",
    "municipalities": "390",
    "meeting_place_name": "Kulturhuset",
    "meeting_place_lon": "11,91",
    "meeting_place_lat": "55,01",
    "submitter_name": "Mette",
    "submitter_email": "mette@example.dk",
}


def test_self_registration_waits_for_moderation(
    site: dict[str, str], http: requests.Session
) -> None:
    base = site["url"]
    form = http.get(f"{base}/networks/register", timeout=10)
    assert form.status_code == 200 and "<form" in form.text
    assert "frame-ancestors 'none'" in form.headers["Content-Security-Policy"]
    assert form.headers["X-Content-Type-Options"] == "nosniff"
    sent = _post_form(http, f"{base}/networks/register", FORM)
    assert sent.status_code == 202 and "Tak" in sent.text
    networks = http.get(f"{base}/collections/networks/items", params={"limit": 100}).json()
    assert "vordingborg-ivaerksaettere" not in [f["id"] for f in networks["features"]]
    queue = http.get(f"{base}/admin/submissions", headers=_h(site["admin"]), timeout=10)
    [pending] = [s for s in queue.json()["submissions"] if s["submission"]["name"] == FORM["name"]]
    assert "mette@example.dk" not in http.get(f"{base}/collections/networks/items").text
    approve = f"{base}/admin/submissions/{pending['id']}/approve"
    assert http.post(approve, headers=_h(site["coordinator"])).status_code == 403
    ok = http.post(approve, headers=_h(site["admin"]), timeout=10)
    assert ok.status_code == 200 and ok.json()["network"] == "vordingborg-ivaerksaettere"
    shown = http.get(f"{base}/collections/networks/items/vordingborg-ivaerksaettere").json()
    assert shown["properties"]["meeting_place_name"] == "Kulturhuset"
    assert "mette" not in str(shown).lower()  # the submitter is not published
    assert http.post(approve, headers=_h(site["admin"])).status_code == 409


def test_bad_submissions_and_bots_are_refused(site: dict[str, str], http: requests.Session) -> None:
    base = f"{site['url']}/networks/register"
    outside = {**FORM, "meeting_place_lon": "2.35", "meeting_place_lat": "48.85"}
    r = _post_form(http, base, outside)
    assert r.status_code == 422 and "Denmark" in r.json()["description"]
    r = _post_form(http, base, {**FORM, "website": "javascript:alert(1)"})
    assert r.status_code == 422 and r.json()["parameter"] == "website"
    as_json = {**FORM, "municipalities": ["390"], "meeting_place_lon": 11.91,
               "meeting_place_lat": 55.01}  # fmt: skip
    r = http.post(base, json={**as_json, "is_admin": True}, timeout=10)
    assert r.status_code == 422 and r.json()["parameter"] == "is_admin"
    r = http.post(base, data=b"name=" + b"x" * 70_000, timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 413
    before = http.get(f"{site['url']}/admin/submissions", headers=_h(site["admin"])).json()
    bot = _post_form(http, base, {**FORM, "name": "Spam", "homepage": "http://spam"})
    assert bot.status_code == 202  # a bot is told nothing
    after = http.get(f"{site['url']}/admin/submissions", headers=_h(site["admin"])).json()
    assert len(after["submissions"]) == len(before["submissions"])


def test_a_flood_from_one_client_is_limited(
    tmp_path: Path, http: requests.Session, app_transport: AppTransport
) -> None:
    env = {"MIKROKORT_STORE": f"sqlite:///{tmp_path / 'flood.db'}",
           "MIKROKORT_BLOBS": f"file:///{tmp_path / 'blobs'}"}  # fmt: skip
    cli(env, "seed", "--demo", "--count", "50", "--no-snapshot")
    url = app_transport.add("flood", env)
    codes = [
        _post_form(http, f"{url}/networks/register", {**FORM, "name": f"Netværk {i}"}).status_code
        for i in range(7)
    ]
    assert codes[:5] == [202] * 5 and codes[5:] == [429, 429]


def test_cors_is_open_for_public_reads_only(site: dict[str, str], http: requests.Session) -> None:
    public = http.get(f"{site['url']}/collections", headers={"Origin": "https://kommune.dk"})
    assert public.headers.get("Access-Control-Allow-Origin") == "*"
    admin = http.get(
        f"{site['url']}/admin/audit",
        headers={"Origin": "https://evil.example", **_h(site["admin"])},
        timeout=10,
    )
    assert "Access-Control-Allow-Origin" not in admin.headers
    submit = http.post(
        f"{site['url']}/networks/register", data=FORM, headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in submit.headers
