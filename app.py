"""The Mikrokort Chalice app: routes only; each handler hands the request to the core."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from chalice import Chalice, CORSConfig, Cron, Response

from chalicelib.config import Settings
from chalicelib.features.service import FeaturesService
from chalicelib.web import http
from chalicelib.web.http import HttpRequest, HttpResponse, error_response

app = Chalice(app_name="mikrokort")
app.debug = False

_CORS = CORSConfig(allow_origin="*", expose_headers=["ETag", "Content-Crs"], max_age=86400)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_env()


@lru_cache(maxsize=1)
def features() -> FeaturesService:
    """Opened on first use, once per process (a Lambda container keeps it warm)."""
    from chalicelib.blobs import open_blobs
    from chalicelib.store import open_store

    s = settings()
    return FeaturesService(
        open_store(s.store_url), lambda: open_blobs(s.blobs_url), s.municipalities
    )


@lru_cache(maxsize=1)
def admin_service() -> object:
    """The write side (API keys required); loaded only when a write route is called."""
    from chalicelib.curation.admin import AdminService

    return AdminService(features().store)


def _request() -> HttpRequest:
    r = app.current_request
    headers = {k.lower(): v for k, v in (r.headers or {}).items()}
    params = {}
    if r.query_params:
        params = {k: r.query_params.getlist(k) for k in r.query_params}
    body = b""
    if r.method in ("POST", "PUT", "PATCH", "DELETE"):
        body = r.raw_body or b""
    identity = (r.context or {}).get("identity") or {}
    return HttpRequest(
        path=r.path,
        params=params,
        headers=headers,
        base_url=_base_url(r, headers),
        method=r.method,
        body=body,
        client=identity.get("sourceIp"),
    )


def _base_url(r, headers: dict[str, str]) -> str:
    configured = settings().public_url
    if configured:
        return configured
    scheme = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    host = headers.get("host", "127.0.0.1")
    stage = (r.context or {}).get("stage")
    if stage and host.endswith(".amazonaws.com"):
        return f"{scheme}://{host}/{stage}"
    return f"{scheme}://{host}"


def _respond(operation: str, *args: object, service: Callable[[], object] = features) -> Response:
    """Run one operation of a service; every error becomes its HTTP answer here."""
    try:
        call: Callable[..., HttpResponse] = getattr(service(), operation)
        result = call(_request(), *args)
    except Exception as exc:  # one place maps every error to HTTP
        result = error_response(exc)
    headers = {"Content-Type": result.media_type, **http.security_headers(result.media_type)}
    headers.update(result.headers)
    public_read = app.current_request.method in ("GET", "HEAD") and service is features
    if result.status != 304 and public_read:
        headers.setdefault("Access-Control-Allow-Origin", "*")
    # API Gateway's proxy integration needs a str body; the embedded server writes bytes as
    # given, which saves decoding and re-encoding a page of up to 10,000 features.
    body = result.body if http.bytes_bodies else result.body.decode()
    return Response(body=body, headers=headers, status_code=result.status)


@app.route("/", methods=["GET"], cors=_CORS)
def landing() -> Response:
    return _respond("landing")


@app.route("/conformance", methods=["GET"], cors=_CORS)
def conformance() -> Response:
    return _respond("conformance")


@app.route("/api", methods=["GET"], cors=_CORS)
def api() -> Response:
    return _respond("api")


@app.route("/collections", methods=["GET"], cors=_CORS)
def collections() -> Response:
    return _respond("collections")


@app.route("/collections/{collection_id}", methods=["GET"], cors=_CORS)
def collection(collection_id: str) -> Response:
    return _respond("collection", collection_id)


@app.route("/collections/{collection_id}/items", methods=["GET"], cors=_CORS)
def items(collection_id: str) -> Response:
    return _respond("items", collection_id)


@app.route("/collections/{collection_id}/items/{feature_id}", methods=["GET"], cors=_CORS)
def item(collection_id: str, feature_id: str) -> Response:
    return _respond("item", collection_id, feature_id)


@app.route("/municipalities/{code}/new-businesses", methods=["GET"], cors=_CORS)
def new_businesses(code: str) -> Response:
    return _respond("new_businesses", code)


@app.schedule(Cron(15, "0-5", "*", "*", "?", "*"), name="cvr_refresh")
def cvr_refresh(event) -> dict:
    """Nightly: the register's changes into the store. Called hourly from 00:15 to 05:15 UTC:
    the first call runs, later ones resume a run that ran out of time, or do nothing."""
    from chalicelib.intake.cvr.jobs import scheduled_refresh

    return scheduled_refresh(settings(), event.context)


@app.route("/search", methods=["GET"], cors=_CORS)
def search() -> Response:
    return _respond("search")


@app.route("/businesses/{business_id}/matches", methods=["GET"], cors=_CORS)
def matches(business_id: str) -> Response:
    return _respond("matches", business_id)


@app.route("/widget/{name}", methods=["GET"], cors=_CORS)
def widget_asset(name: str) -> Response:
    return _respond("widget_asset", name)


@app.route("/demo", methods=["GET"])
def demo_page() -> Response:
    return _respond("demo_page")


@app.route("/municipalities/{code}/map-data", methods=["GET"], cors=_CORS)
def map_data(code: str) -> Response:
    return _respond("map_data", code)


@app.route("/snapshots", methods=["GET"], cors=_CORS)
def snapshots() -> Response:
    return _respond("snapshots")


@app.route("/snapshots/{year}/{name}", methods=["GET"], cors=_CORS)
def snapshot_file(year: str, name: str) -> Response:
    return _respond("snapshot_file", year, name)


@app.route("/barometer/{year}", methods=["GET"], cors=_CORS)
def barometer(year: str) -> Response:
    return _respond("barometer", year)


@app.schedule(Cron(0, 4, 15, 1, "?", "*"), name="yearly_snapshot")
def yearly_snapshot(event) -> dict:
    """15 January, 04:00 UTC: publish last year's snapshot and barometer (once)."""
    from chalicelib.publishing.snapshot import scheduled_snapshot

    return scheduled_snapshot(settings())


# -- network self-registration (public form; no CORS: it is posted from this site only) -------

_FORM = ["application/x-www-form-urlencoded", "application/json"]


@app.route("/networks/register", methods=["GET"])
def register_form() -> Response:
    return _respond("register_form")


@app.route("/networks/register", methods=["POST"], content_types=_FORM)
def register_submit() -> Response:
    return _respond("register_submit")


# -- admin: API key required (X-API-Key); no CORS -------------------------------------------

_JSON = ["application/json"]


@app.route("/admin/networks", methods=["POST"], content_types=_JSON)
def admin_create_network() -> Response:
    return _respond("create_network", service=admin_service)


@app.route("/admin/networks/{network_id}", methods=["GET"])
def admin_get_network(network_id: str) -> Response:
    return _respond("get_network", network_id, service=admin_service)


@app.route("/admin/networks/{network_id}", methods=["PUT"], content_types=_JSON)
def admin_replace_network(network_id: str) -> Response:
    return _respond("replace_network", network_id, service=admin_service)


@app.route("/admin/networks/{network_id}", methods=["DELETE"])
def admin_delete_network(network_id: str) -> Response:
    return _respond("delete_network", network_id, service=admin_service)


@app.route("/admin/networks/{network_id}/members/{cvr}", methods=["PUT"])
def admin_add_member(network_id: str, cvr: str) -> Response:
    return _respond("set_member", network_id, cvr, True, service=admin_service)


@app.route("/admin/networks/{network_id}/members/{cvr}", methods=["DELETE"])
def admin_remove_member(network_id: str, cvr: str) -> Response:
    return _respond("set_member", network_id, cvr, False, service=admin_service)


@app.route("/admin/businesses/{cvr}", methods=["GET"])
def admin_get_business(cvr: str) -> Response:
    return _respond("get_business", cvr, service=admin_service)


@app.route("/admin/businesses/{cvr}/curation", methods=["PUT"], content_types=_JSON)
def admin_curate_business(cvr: str) -> Response:
    return _respond("curate_business", cvr, service=admin_service)


@app.route("/admin/municipalities/{code}/contact", methods=["PUT"], content_types=_JSON)
def admin_municipality_contact(code: str) -> Response:
    return _respond("set_municipality_contact", code, service=admin_service)


@app.route("/admin/submissions", methods=["GET"])
def admin_submissions() -> Response:
    return _respond("submissions", service=admin_service)


@app.route("/admin/submissions/{submission_id}/approve", methods=["POST"])
def admin_approve(submission_id: str) -> Response:
    return _respond("decide", submission_id, True, service=admin_service)


@app.route("/admin/submissions/{submission_id}/reject", methods=["POST"])
def admin_reject(submission_id: str) -> Response:
    return _respond("decide", submission_id, False, service=admin_service)


@app.route("/admin/audit", methods=["GET"])
def admin_audit() -> Response:
    return _respond("audit", service=admin_service)
