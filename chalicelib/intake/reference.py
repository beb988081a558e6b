"""Reference data into the store: the name and DAGI boundary of every configured municipality,
from the data the product ships (all 98). Run by `mikrokort init` and by the first scheduled
refresh on AWS; idempotent, and never undoes what people set (the store keeps a municipality's
business contact when reference data is loaded again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.errors import NotConfigured
from chalicelib.domain.reference import load_municipalities, municipality_codes

if TYPE_CHECKING:
    from chalicelib.store import Store, WriteResult


def load_configured_municipalities(store: Store, codes: tuple[str, ...]) -> WriteResult:
    """Write the configured municipalities; an unknown kommunekode is named, nothing written."""
    if not codes:
        raise NotConfigured("MIKROKORT_MUNICIPALITIES names no municipality (e.g. 376,390)")
    known = set(municipality_codes())
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise NotConfigured(
            f"MIKROKORT_MUNICIPALITIES has unknown kommunekode(r) {', '.join(unknown)}: "
            "use the 3- or 4-digit codes of Danmarks Statistik (e.g. 101 for København)"
        )
    return store.upsert_municipalities(load_municipalities(codes))


def missing_municipalities(store: Store, codes: tuple[str, ...]) -> list[str]:
    """The configured municipalities the store does not have yet (a cheap check per run)."""
    return [c for c in codes if store.get_feature("municipalities", c) is None]
