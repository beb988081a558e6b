"""`mikrokort seed --demo`: load the demo data set into the configured store."""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.domain.reference import load_municipalities
from chalicelib.store import Store, WriteResult


def seed_demo(
    store: Store, count: int = 5000, progress: Callable[[str], None] = print
) -> dict[str, WriteResult]:
    """Write the demo municipalities, businesses and networks; a second run changes nothing."""
    from chalicelib.demo.generate import generate_businesses, generate_networks

    progress("municipalities: Guldborgsund (376), Vordingborg (390) - DAGI boundaries")
    munis = store.upsert_municipalities(load_municipalities(["376", "390"]))
    progress(f"businesses: generating {count} synthetic businesses")
    businesses = generate_businesses(count)
    result = WriteResult()
    for i in range(0, len(businesses), 1000):
        result += store.upsert_businesses(businesses[i : i + 1000])
        progress(f"businesses: {min(i + 1000, len(businesses))}/{len(businesses)} written")
    networks = generate_networks(businesses)
    progress(f"networks: {len(networks)} synthetic networks")
    nets = store.upsert_networks(networks)
    return {"municipalities": munis, "businesses": result, "networks": nets}
