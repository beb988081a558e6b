"""The write side: networks and memberships, business curation, municipality contacts, the
moderation queue and the audit log. Every route needs an API key with the right scope; every
write is audited with its before and after; writes to existing things need `If-Match` with the
ETag last read, so two people editing at once never silently overwrite each other (412).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.curation import auth
from chalicelib.domain.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    UnprocessableEntity,
)
from chalicelib.web.bodies import parse_body
from chalicelib.web.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from chalicelib.store import Store


def _json(status: int, doc: Any, etag: str | None = None) -> HttpResponse:
    headers = {"Cache-Control": "no-store"}
    if etag:
        headers["ETag"] = f'"{etag}"'
    return HttpResponse(status, orjson.dumps(doc), "application/json", headers)


def _if_match(req: HttpRequest, required: bool = True) -> str | None:
    value = req.header("if-match")
    if value is None:
        if required:
            raise PreconditionRequired(
                "send If-Match with the ETag you last read, so a concurrent change is not lost"
            )
        return None
    return value.strip().removeprefix("W/").strip('"')


class AdminService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- networks ------------------------------------------------------------------------------

    def get_network(self, req: HttpRequest, network_id: str) -> HttpResponse:
        auth.authenticate(self.store, req, "networks:write")
        n = self.store.get_network(network_id)
        if n is None:
            raise NotFound(f"no network {network_id}")
        return _json(200, n.model_dump(mode="json"), self.store.network_digest(network_id))

    def create_network(self, req: HttpRequest) -> HttpResponse:
        from chalicelib.domain.models import Network

        caller = auth.authenticate(self.store, req, "networks:write")
        n = parse_body(req, Network)
        digest = self.store.put_network(n, None, create=True)
        auth.audit(self.store, caller, "network.create", n.id, None, n.model_dump(mode="json"))
        return _json(201, n.model_dump(mode="json"), digest)

    def replace_network(self, req: HttpRequest, network_id: str) -> HttpResponse:
        from chalicelib.domain.models import Network

        caller = auth.authenticate(self.store, req, "networks:write")
        n = parse_body(req, Network)
        if n.id != network_id:
            raise UnprocessableEntity("id: the body's id differs from the path", parameter="id")
        expected = _if_match(req)
        before = self.store.get_network(network_id)
        digest = self.store.put_network(n, expected)
        auth.audit(
            self.store, caller, "network.update", n.id,
            before.model_dump(mode="json") if before else None, n.model_dump(mode="json"),
        )  # fmt: skip
        return _json(200, n.model_dump(mode="json"), digest)

    def delete_network(self, req: HttpRequest, network_id: str) -> HttpResponse:
        caller = auth.authenticate(self.store, req, "networks:write")
        expected = _if_match(req)
        before = self.store.get_network(network_id)
        self.store.delete_network(network_id, expected)
        auth.audit(
            self.store, caller, "network.delete", network_id,
            before.model_dump(mode="json") if before else None, None,
        )  # fmt: skip
        return HttpResponse(204, b"", "application/json", {"Cache-Control": "no-store"})

    def set_member(self, req: HttpRequest, network_id: str, cvr: str, member: bool) -> HttpResponse:
        """Add or remove one member: read, change, write only over what was read; retry."""
        caller = auth.authenticate(self.store, req, "networks:write")
        if not (cvr.isascii() and cvr.isdigit() and len(cvr) == 8):
            raise NotFound(f"no business {cvr}")
        if member and self.store.get_business(cvr) is None:
            raise NotFound(f"no business {cvr}")
        for _ in range(5):
            n = self.store.get_network(network_id)
            digest = self.store.network_digest(network_id)
            if n is None or digest is None:
                raise NotFound(f"no network {network_id}")
            members = set(n.members) | {cvr} if member else set(n.members) - {cvr}
            changed = n.model_copy(update={"members": sorted(members)})
            try:
                new = self.store.put_network(changed, digest)
            except PreconditionFailed:
                continue
            action = "network.member.add" if member else "network.member.remove"
            auth.audit(
                self.store, caller, action, f"{network_id}/{cvr}", n.members, changed.members
            )
            return _json(200, changed.model_dump(mode="json"), new)
        raise Conflict(f"network {network_id} is being changed by others; try again")

    # -- businesses ----------------------------------------------------------------------------

    def get_business(self, req: HttpRequest, cvr: str) -> HttpResponse:
        auth.authenticate(self.store, req, "admin")
        b = self.store.get_business(cvr)
        version = self.store.business_version(cvr)
        if b is None or version is None:
            raise NotFound(f"no business {cvr}")
        return _json(200, b.model_dump(mode="json"), f"v{version}")

    def curate_business(self, req: HttpRequest, cvr: str) -> HttpResponse:
        from chalicelib.domain.models import Curation

        caller = auth.authenticate(self.store, req, "admin")
        curation = parse_body(req, Curation)
        expected = _if_match(req)
        if not (expected.startswith("v") and expected[1:].isdigit()):
            raise PreconditionFailed('If-Match must be the ETag of the business, like "v3"')
        before = self.store.get_business(cvr)
        if before is None:
            raise NotFound(f"no business {cvr}")
        try:
            version = self.store.curate_business(cvr, curation, int(expected[1:]))
        except Conflict as exc:
            raise PreconditionFailed(exc.description) from None
        auth.audit(
            self.store, caller, "business.curate", cvr,
            before.curated.model_dump(mode="json"), curation.model_dump(mode="json"),
        )  # fmt: skip
        return _json(200, {"id": cvr, "curated": curation.model_dump(mode="json")}, f"v{version}")

    # -- municipalities ------------------------------------------------------------------------

    def set_municipality_contact(self, req: HttpRequest, code: str) -> HttpResponse:
        from chalicelib.domain.models import Municipality, MunicipalityContact

        caller = auth.authenticate(self.store, req, "admin")
        contact = parse_body(req, MunicipalityContact)
        raw = self.store.get_feature("municipalities", code)
        if raw is None:
            raise NotFound(f"no municipality {code}")
        f = orjson.loads(raw)
        p = f["properties"]
        before = p.get("business_contact")
        m = Municipality(
            kommunekode=p["kommunekode"], name=p["name"], region=p.get("region"),
            boundary=f["geometry"], business_contact=contact,
        )  # fmt: skip
        self.store.upsert_municipalities([m])
        auth.audit(self.store, caller, "municipality.contact", code, before, contact.model_dump())
        return _json(200, {"kommunekode": code, "business_contact": contact.model_dump()})

    # -- moderation and audit ------------------------------------------------------------------

    def submissions(self, req: HttpRequest) -> HttpResponse:
        from chalicelib.curation.selfregistration import list_submissions

        auth.authenticate(self.store, req, "admin")
        status = (req.params.get("status") or ["pending"])[0]
        return _json(200, {"submissions": list_submissions(self.store, status)})

    def decide(self, req: HttpRequest, submission_id: str, approve: bool) -> HttpResponse:
        from chalicelib.curation.selfregistration import decide

        caller = auth.authenticate(self.store, req, "admin")
        return _json(200, decide(self.store, caller, submission_id, approve))

    def audit(self, req: HttpRequest) -> HttpResponse:
        auth.authenticate(self.store, req, "admin")
        raw = (req.params.get("limit") or ["100"])[0]
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 1000):
            raise InvalidParameter("limit must be an integer from 1 to 1000", parameter="limit")
        return _json(200, {"entries": auth.audit_log(self.store, int(raw))})
