"""How far a suggested network is from a business, in words for the feed, the page and the letter.

Its own module because both the welcome feed (matchmaking) and its page (pages) say it, and the
page must not import the feed's builder that imports the page.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.text import number

WORDS = {
    "da": {"in_area": "i netværkets område", "meets": "mødes {km} væk"},
    "en": {"in_area": "within the network's area", "meets": "meets {km} away"},
}


def network_distance(n: dict[str, Any], lang: str) -> str:
    """Where a suggested network is from the business: "1,3 km" to where it meets, "i
    netværkets område, mødes 15,0 km væk" inside its area, or "i netværkets område" alone for
    a network that names no meeting place."""
    t = WORDS[lang]
    km = f"{number(n['distance_km'], lang, 1)} km"
    if not n["within_area"]:
        return km
    if n["distance_km"] == 0 and not n.get("meeting_place_name"):
        return t["in_area"]
    return f"{t['in_area']}, {t['meets'].format(km=km)}"
