"""Small hand-built businesses and networks for tests where the right answer is known."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.domain.models import Business, Contact, Curation, Network, Point


def business(cvr: str = "10000004", **fields: Any) -> Business:
    base: dict[str, Any] = {
        "id": cvr,
        "name": f"Testfirma {cvr} ApS",
        "industry_code": "433200",
        "industry_text": "Tømrer- og bygningssnedkervirksomhed",
        "company_form": "APS",
        "employees": "2-4",
        "founded": date(2015, 3, 1),
        "address": "Langgade 12",
        "postcode": "4800",
        "city": "Nykøbing F",
        "municipality": "376",
        "location": Point(lon=11.8729, lat=54.7691),
        "contact": Contact(
            phone="+45 12 34 56 78", email="a@b.example", website="https://b.example"
        ),
        "source": "test",
    }
    base.update(fields)
    return Business(**base)


def personal(cvr: str = "10000012", **fields: Any) -> Business:
    return business(cvr, company_form="ENK", name=f"Hansen Tømrer {cvr}", **fields)


def network(slug: str = "test-net", **fields: Any) -> Network:
    base: dict[str, Any] = {
        "id": slug,
        "name": "Testnetværket",
        "municipalities": ["376"],
        "meeting_place": Point(lon=11.87, lat=54.77),
        "members": [],
    }
    base.update(fields)
    return Network(**base)


__all__ = ["Curation", "business", "network", "personal"]
