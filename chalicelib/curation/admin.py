"""The write side: networks and memberships, business curation, municipality contacts, the
moderation queue and the audit log. Every route needs an API key with the right scope (and a
coordinator's key, its own networks); every write is audited with its before and after, in the
store transaction of the write itself; writes to existing things need `If-Match` with the ETag
last read, so two people editing at once never silently overwrite each other (412). ETags come
from the same read as the body they describe.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from chalicelib.domain.public import internal_code, municipality_contact
from chalicelib.web.bodies import parse_body
from chalicelib.web.http import HttpRequest, HttpResponse

if TYPE_CHECKING:
    from chalicelib.domain.models import Network
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


def _network_doc(n: Any) -> Any:
    return n.model_dump(mode="json")


def _curated_doc(b: Any) -> Any:
    return b.curated.model_dump(mode="json")


class AdminService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- networks ------------------------------------------------------------------------------

    def _hidden(self, cvrs: Iterable[str]) -> set[str]:
        """Which of these businesses the public does not see (hidden on request, moved away)."""
        return {cvr for cvr, b in self.store.get_businesses(cvrs).items() if not b.public}

    def _shown(self, caller: auth.Caller, n: Network) -> dict[str, Any]:
        """A network as this caller may see it: a coordinator never sees hidden members."""
        doc = n.model_dump(mode="json")
        if not caller.is_admin:
            hidden = self._hidden(n.members)
            doc["members"] = [m for m in n.members if m not in hidden]
        return doc

    def get_network(self, req: HttpRequest, network_id: str) -> HttpResponse:
        caller = auth.authenticate(self.store, req, "networks:write")
        caller.require_network(network_id)
        found = self.store.get_network_versioned(network_id)
        if found is None:
            raise NotFound(f"no network {network_id}")
        n, digest = found  # one read: the ETag is the body's
        return _json(200, self._shown(caller, n), digest)

    def create_network(self, req: HttpRequest) -> HttpResponse:
        from chalicelib.domain.models import Network

        caller = auth.authenticate(self.store, req, "networks:write")
        n = parse_body(req, Network)
        caller.require_network(n.id)
        if not caller.is_admin and n.members:
            n = n.model_copy(update={"members": self._visible_members(n.members)})
        record = auth.audit_record(caller, "network.create", n.id, _network_doc)
        digest = self.store.put_network(n, None, create=True, record=record)
        return _json(201, self._shown(caller, n), digest)

    def _visible_members(self, members: Iterable[str]) -> list[str]:
        hidden = self._hidden(members)
        return sorted(m for m in set(members) if m not in hidden)

    def replace_network(self, req: HttpRequest, network_id: str) -> HttpResponse:
        from chalicelib.domain.models import Network

        caller = auth.authenticate(self.store, req, "networks:write")
        caller.require_network(network_id)
        n = parse_body(req, Network)
        if n.id != network_id:
            raise UnprocessableEntity("id: the body's id differs from the path", parameter="id")
        expected = _if_match(req)
        if not caller.is_admin:
            # A coordinator never saw the hidden members, so a list without them keeps them;
            # the write is conditioned on the state this merge was made from.
            found = self.store.get_network_versioned(network_id)
            if found is None:
                raise NotFound(f"no network {network_id}")
            stored, digest = found
            if digest != expected:
                raise PreconditionFailed(
                    f"network {network_id} has changed since it was read (If-Match does not match)"
                )
            kept = self._hidden(stored.members) & set(stored.members)
            n = n.model_copy(
                update={"members": sorted(set(self._visible_members(n.members)) | kept)}
            )
        record = auth.audit_record(caller, "network.update", n.id, _network_doc)
        digest = self.store.put_network(n, expected, record=record)
        return _json(200, self._shown(caller, n), digest)

    def delete_network(self, req: HttpRequest, network_id: str) -> HttpResponse:
        caller = auth.authenticate(self.store, req, "networks:write")
        caller.require_network(network_id)
        expected = _if_match(req)
        record = auth.audit_record(caller, "network.delete", network_id, _network_doc)
        self.store.delete_network(network_id, expected, record=record)
        return HttpResponse(204, b"", "application/json", {"Cache-Control": "no-store"})

    def set_member(self, req: HttpRequest, network_id: str, cvr: str, member: bool) -> HttpResponse:
        """Add or remove one member: read, change, write only over what was read; retry."""
        caller = auth.authenticate(self.store, req, "networks:write")
        caller.require_network(network_id)
        if not (cvr.isascii() and cvr.isdigit() and len(cvr) == 8):
            raise NotFound(f"no business {cvr}")
        b = self.store.get_business(cvr)
        # a coordinator cannot see a hidden business, so can neither add nor remove it
        visible = b is not None and (caller.is_admin or b.public)
        if not visible and (member or not caller.is_admin):
            raise NotFound(f"no business {cvr}")
        action = "network.member.add" if member else "network.member.remove"
        for _ in range(5):
            found = self.store.get_network_versioned(network_id)
            if found is None:
                raise NotFound(f"no network {network_id}")
            n, digest = found
            members = set(n.members) | {cvr} if member else set(n.members) - {cvr}
            changed = n.model_copy(update={"members": sorted(members)})
            record = auth.audit_record(
                caller, action, f"{network_id}/{cvr}", lambda net: net.members
            )
            try:
                new = self.store.put_network(changed, digest, record=record)
            except PreconditionFailed:
                continue
            return _json(200, self._shown(caller, changed), new)
        raise Conflict(f"network {network_id} is being changed by others; try again")

    # -- businesses ----------------------------------------------------------------------------

    def get_business(self, req: HttpRequest, cvr: str) -> HttpResponse:
        auth.authenticate(self.store, req, "admin")
        found = self.store.get_business_versioned(cvr)
        if found is None:
            raise NotFound(f"no business {cvr}")
        b, version = found  # one read: the ETag is the body's
        return _json(200, b.model_dump(mode="json"), f"v{version}")

    def curate_business(self, req: HttpRequest, cvr: str) -> HttpResponse:
        from chalicelib.domain.models import Curation

        caller = auth.authenticate(self.store, req, "admin")
        curation = parse_body(req, Curation)
        expected = _if_match(req)
        if not (expected.startswith("v") and expected[1:].isdigit()):
            raise PreconditionFailed('If-Match must be the ETag of the business, like "v3"')
        record = auth.audit_record(caller, "business.curate", cvr, _curated_doc)
        try:
            version = self.store.curate_business(cvr, curation, int(expected[1:]), record=record)
        except Conflict as exc:
            raise PreconditionFailed(exc.description) from None
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
        before = municipality_contact(p)
        m = Municipality(
            kommunekode=internal_code(p["kommunekode"]), name=p["name"], region=p.get("region"),
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
