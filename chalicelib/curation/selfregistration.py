"""Network self-registration: a public form where a network submits its entry or a change.

A submission waits in a moderation queue until an admin approves it; before that it is shown
nowhere. It is bounded in size, validated like any network (geometry valid and inside Denmark,
URLs and e-mail well-formed), and guarded against floods: a per-client hourly limit (clients
are known only by a salted hash of their address), a cap on the pending queue, and a honeypot
field that people never see and bots fill in. The limit and the cap are counters the store
moves in the transaction that queues the submission, so concurrent posts cannot both pass them.

The HTML form carries a CSRF token (double submit): the form page sets a random cookie and
puts an expiring HMAC of it in a hidden field; a form post needs both, so another site cannot
make a visitor's browser submit in their name. JSON posts need no token: a browser sends JSON
cross-site only after a CORS preflight, which this route does not answer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.curation import auth
from chalicelib.domain.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from chalicelib.domain.models import Contact, Network, Point
from chalicelib.store.port import Counter, LimitReached
from chalicelib.store.shared import time_key
from chalicelib.web.bodies import validate
from chalicelib.web.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from chalicelib.store import Store

SUBMISSIONS = "submission"
PENDING = SUBMISSIONS + ":pending"  # one record per submission waiting for moderation
QUEUE = SUBMISSIONS + ":queue"  # the counter `pending`: how many wait (the cap's counter)
RATE = "ratelimit"
MAX_BODY = 64 * 1024
PER_CLIENT_PER_HOUR = 5
MAX_PENDING = 500
HONEYPOT = "homepage"
CSRF_FIELD = "csrf"
CSRF_COOKIE = "mk_csrf"
CSRF_MAX_AGE = 2 * 3600  # seconds a form may stay open before it is sent
_CSRF_LABEL = b"mikrokort/selfregistration/csrf/v1"
_SLUG = re.compile(r"[^a-z0-9]+")


class NetworkSubmission(BaseModel):
    """What a network coordinator may send; everything else is refused (extra fields)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    network_id: str | None = Field(
        default=None, max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
    )
    name: str = Field(min_length=2, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9 +()-]{6,40}$")
    municipalities: list[str] = Field(default_factory=list, max_length=98)
    meeting_place_lon: float | None = None
    meeting_place_lat: float | None = None
    meeting_place_name: str | None = Field(default=None, max_length=200)
    area: dict[str, Any] | None = None
    tags: list[str] = Field(default_factory=list, max_length=30)
    submitter_name: str = Field(min_length=2, max_length=100)
    submitter_email: str = Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    homepage: str | None = Field(default=None, max_length=300)  # the honeypot

    def network(self, members: list[str] | None = None) -> Network:
        """The network it describes (validated: a place in Denmark, a valid area)."""
        place = None
        if self.meeting_place_lon is not None or self.meeting_place_lat is not None:
            place = {"lon": self.meeting_place_lon, "lat": self.meeting_place_lat}
        slug = self.network_id or _SLUG.sub("-", self.name.lower().translate(_DANISH)).strip("-")
        try:
            return self._network(slug, place, members)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            if where.startswith("meeting_place"):
                where = "meeting_place_lon"
            raise UnprocessableEntity(f"{where}: {first['msg']}", parameter=where) from None

    def _network(
        self, slug: str, place: dict[str, Any] | None, members: list[str] | None
    ) -> Network:
        return Network(
            id=slug[:80].strip("-") or "netvaerk",
            name=self.name,
            description=self.description,
            website=self.website,
            contact=Contact(email=self.email, phone=self.phone),
            municipalities=self.municipalities,
            meeting_place=Point.model_validate(place) if place else None,
            meeting_place_name=self.meeting_place_name,
            area=self.area,
            tags=self.tags,
            members=members or [],
        )


_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e"})


def _client_hash(client: str | None, salt: bytes) -> str:
    """A short salted hash: enough to count one client's submissions, useless to find it."""
    return hashlib.sha256(salt + b":" + (client or "unknown").encode()).hexdigest()[:16]


def _csrf_key(req: HttpRequest) -> bytes:
    """A key of its own for form tokens, derived from the cursor secret with a distinct label
    (a token can never pass for a cursor signature, nor the other way round)."""
    return hmac.new(req.settings.cursor_secret, _CSRF_LABEL, hashlib.sha256).digest()


def _csrf_sign(key: bytes, issued: int, nonce: str) -> str:
    return hmac.new(key, f"{issued}.{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def csrf_pair(req: HttpRequest, now: float | None = None) -> tuple[str, str]:
    """A fresh (cookie value, form token): the token is `<issued>.<HMAC(issued, cookie)>`."""
    nonce = secrets.token_urlsafe(18)
    issued = int(time.time() if now is None else now)
    return nonce, f"{issued}.{_csrf_sign(_csrf_key(req), issued, nonce)}"


def _cookie(req: HttpRequest, name: str) -> str | None:
    for part in (req.header("cookie") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _csrf_valid(req: HttpRequest, token: str | None, now: float | None = None) -> bool:
    nonce = _cookie(req, CSRF_COOKIE)
    if not token or not nonce or len(token) > 64 or len(nonce) > 64:
        return False
    issued_text, _, signature = token.partition(".")
    if not (issued_text.isascii() and issued_text.isdigit() and len(issued_text) <= 12):
        return False
    issued = int(issued_text)
    age = (time.time() if now is None else now) - issued
    if not -60 <= age <= CSRF_MAX_AGE:
        return False
    return hmac.compare_digest(signature, _csrf_sign(_csrf_key(req), issued, nonce))


def _forbidden_form() -> HttpResponse:
    body = _page(
        "Formularen er udløbet / The form has expired",
        "<p>Formularen kunne ikke godkendes: den er for gammel, eller den blev ikke sendt fra "
        "vores egen side. Åbn <a href='register'>formularen</a> igen og send den derfra.</p>"
        "<p lang='en'>The form could not be accepted: it is too old, or it was not sent from our "
        "own page. Open the <a href='register'>form</a> again and send it from there.</p>",
    )
    return HttpResponse(403, body, "text/html; charset=utf-8", {"Cache-Control": "no-store"})


def _read(req: HttpRequest) -> tuple[dict[str, Any], bool]:
    """The submitted fields, and whether they came from the HTML form."""
    if len(req.body) > MAX_BODY:
        raise PayloadTooLarge(f"a submission may be at most {MAX_BODY // 1024} KB")
    media = (req.header("content-type") or "").split(";")[0].strip().lower()
    if media == "application/json":
        try:
            data = orjson.loads(req.body)
        except orjson.JSONDecodeError:
            raise InvalidParameter("the body is not JSON", parameter="body") from None
        if not isinstance(data, dict):
            raise InvalidParameter("the body must be a JSON object", parameter="body")
        return data, False
    if media == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(req.body.decode("utf-8"), strict_parsing=False, max_num_fields=40)
        except (UnicodeDecodeError, ValueError):
            raise InvalidParameter("the form could not be read", parameter="body") from None
        data: dict[str, Any] = {k: v[0] for k, v in fields.items() if v and v[0] != ""}
        for listed in ("municipalities", "tags"):
            if listed in data:
                data[listed] = [x.strip() for x in data[listed].split(",") if x.strip()]
        for number in ("meeting_place_lon", "meeting_place_lat"):
            if number in data:
                data[number] = data[number].replace(",", ".")
        if "area" in data:
            try:
                data["area"] = orjson.loads(data["area"])
            except orjson.JSONDecodeError:
                raise InvalidParameter("area must be GeoJSON", parameter="area") from None
        return data, True
    raise UnsupportedMediaType("send the form, or JSON")


def submit(store: Store, req: HttpRequest) -> HttpResponse:
    """`POST /networks/register`: queue a submission for moderation (202)."""
    data, from_form = _read(req)
    if from_form and not _csrf_valid(req, data.pop(CSRF_FIELD, None)):
        return _forbidden_form()
    sub = validate(NetworkSubmission, data)
    if sub.homepage:  # a bot: answer as if accepted, keep nothing
        return _accepted(None, from_form)
    sub.network()  # refuse what could never be approved (422 naming the field)
    client = _client_hash(req.client, req.settings.client_salt)
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    now = datetime.now(UTC)
    sid = f"{now.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
    record = {
        "id": sid,
        "status": "pending",
        "received": now.isoformat(timespec="seconds"),
        "client": client,
        "submission": sub.model_dump(mode="json", exclude={HONEYPOT}),
    }
    counters = [
        Counter(RATE, f"{client}:{hour}", 1, cap=PER_CLIENT_PER_HOUR),
        Counter(QUEUE, "pending", 1, cap=MAX_PENDING, seed=_queue_seed(store)),
    ]
    try:
        store.write_records(
            {SUBMISSIONS: {sid: record}, PENDING: {sid: {"id": sid}}}, counters=counters
        )
    except LimitReached as exc:
        if exc.counter.kind == RATE:
            raise TooManyRequests(
                "too many submissions from here this hour; try again later"
            ) from None
        raise TooManyRequests("the moderation queue is full; try again later") from None
    return _accepted(sid, from_form)


def _queue_seed(store: Store) -> int:
    """Where the queue's counter starts when it does not exist yet: the submissions already
    waiting (from before the counter, or none). Read only while the counter is absent."""
    if store.get_records(QUEUE, ["pending"]):
        return 0
    return len(store.list_records(PENDING, limit=MAX_PENDING + 1))


def _accepted(sid: str | None, from_form: bool) -> HttpResponse:
    if from_form:
        body = _page(
            "Tak! / Thank you!",
            "<p>Jeres oplysninger er modtaget og bliver vist, når kommunen har godkendt dem.</p>"
            "<p lang='en'>Your entry has been received and will be shown once the municipality "
            "has approved it.</p>",
        )
        return HttpResponse(202, body, "text/html; charset=utf-8", {"Cache-Control": "no-store"})
    doc = {"id": sid or secrets.token_hex(8), "status": "pending"}
    return HttpResponse(202, orjson.dumps(doc), "application/json", {"Cache-Control": "no-store"})


def list_submissions(store: Store, status: str) -> list[dict[str, Any]]:
    if status not in ("pending", "approved", "rejected"):
        raise InvalidParameter("status must be pending, approved or rejected", parameter="status")
    if status == "pending":
        ids = [k for k, _ in store.list_records(PENDING, limit=MAX_PENDING + 1)]
        return list(store.get_records(SUBMISSIONS, ids).values())
    return [d for _, d in store.list_records(SUBMISSIONS, limit=1000) if d["status"] == status]


def decide(store: Store, caller: auth.Caller, sid: str, approve: bool) -> dict[str, Any]:
    """Approve (the network is created or updated) or reject a pending submission."""
    record = store.get_records(SUBMISSIONS, [sid]).get(sid)
    if record is None:
        raise NotFound(f"no submission {sid}")
    if record["status"] != "pending":
        raise Conflict(f"submission {sid} was {record['status']} already")
    sub = NetworkSubmission.model_validate(record["submission"])
    result: dict[str, Any] = {"id": sid}
    if approve:
        found = store.get_network_versioned(sub.network_id) if sub.network_id else None
        current = found[0] if found else None
        network = sub.network(members=current.members if current else None)
        if found is not None:
            digest = store.put_network(network, found[1])  # 412 if changed since this read
        else:
            digest = store.put_network(network, None, create=True)
        result.update(network=network.id, etag=digest)
        entry = auth.audit_record(caller, "submission.approve", sid).build(
            current.model_dump(mode="json") if current else None, network.model_dump(mode="json")
        )
    else:
        entry = auth.audit_record(caller, "submission.reject", sid).build(
            record["submission"], None
        )
    decided = {
        **record,
        "status": "approved" if approve else "rejected",
        "decided_by": caller.label(),
        "decided": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    # Only one decision lands: the record must still be pending when it is written, and the
    # queue's counter, the pending entry and the audit entry move with it.
    try:
        store.write_records(
            {SUBMISSIONS: {sid: decided}, auth.AUDIT: {time_key(): entry}},
            deletes={PENDING: [sid]},
            counters=[Counter(QUEUE, "pending", -1)],
            expect=(SUBMISSIONS, sid, "status", "pending"),
        )
    except Conflict:
        raise Conflict(f"submission {sid} was decided already") from None
    result["status"] = decided["status"]
    return result


def _page(title: str, content: str) -> bytes:
    return (
        "<!doctype html><html lang='da'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>body{{font-family:Helvetica,Arial,sans-serif;"
        "max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}label{display:block;"
        "margin-top:.8rem;font-weight:bold}input,textarea{width:100%;padding:.4rem;"
        "font:inherit}.hp{position:absolute;left:-9999px}button{margin-top:1rem;"
        "padding:.5rem 1rem;font:inherit}</style></head><body>"
        f"<h1>{escape(title)}</h1>{content}</body></html>"
    ).encode()


_FIELDS = [
    ("name", "Netværkets navn / Network name", "text", True),
    ("description", "Beskrivelse / Description", "textarea", False),
    ("website", "Hjemmeside / Website (https://...)", "url", False),
    ("email", "Netværkets e-mail / Network e-mail", "email", False),
    ("phone", "Telefon / Phone", "tel", False),
    ("municipalities", "Kommunekoder, fx 376,390 / Municipality codes", "text", False),
    ("meeting_place_name", "Mødested / Meeting place", "text", False),
    ("meeting_place_lon", "Mødested, længdegrad / longitude (fx 11.87)", "text", False),
    ("meeting_place_lat", "Mødested, breddegrad / latitude (fx 54.77)", "text", False),
    ("tags", "Emneord, adskilt af komma / Tags", "text", False),
    (
        "network_id",
        "Ændring af et eksisterende netværk: dets id / Id of an existing network",
        "text",
        False,
    ),
    ("submitter_name", "Dit navn / Your name (vises ikke / not shown)", "text", True),
    ("submitter_email", "Din e-mail / Your e-mail (vises ikke / not shown)", "email", True),
]


def form_page(req: HttpRequest) -> HttpResponse:
    """`GET /networks/register`: the form (works without JavaScript), with a fresh CSRF token
    and its cookie (so the page is never cached)."""
    nonce, token = csrf_pair(req)
    rows = [f"<input type='hidden' name='{CSRF_FIELD}' value='{escape(token)}'>"]
    for name, label, kind, required in _FIELDS:
        req_attr = " required" if required else ""
        field = (
            f"<textarea id='{name}' name='{name}' rows='5' maxlength='4000'></textarea>"
            if kind == "textarea"
            else f"<input id='{name}' name='{name}' type='{kind}' maxlength='300'{req_attr}>"
        )
        rows.append(f"<label for='{name}'>{escape(label)}</label>{field}")
    rows.append(
        f"<div class='hp' aria-hidden='true'><label for='{HONEYPOT}'>Lad feltet være tomt</label>"
        f"<input id='{HONEYPOT}' name='{HONEYPOT}' type='text' tabindex='-1' autocomplete='off'>"
        "</div>"
    )
    body = _page(
        "Registrér jeres netværk / Register your network",
        "<p>Oplysningerne vises på kortet, når kommunen har godkendt dem. / The entry is shown "
        "on the map once the municipality has approved it.</p>"
        "<form method='post' action='register'>" + "".join(rows) + "<button type='submit'>"
        "Send</button></form>",
    )
    secure = "; Secure" if req.base_url.startswith("https://") else ""
    cookie = f"{CSRF_COOKIE}={nonce}; Max-Age={CSRF_MAX_AGE}; HttpOnly; SameSite=Strict{secure}"
    return HttpResponse(
        200, body, "text/html; charset=utf-8", {"Cache-Control": "no-store", "Set-Cookie": cookie}
    )
