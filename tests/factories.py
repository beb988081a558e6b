"""Small hand-built businesses and networks for tests where the right answer is known."""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.domain.models import (
    Business,
    Contact,
    Curation,
    Network,
    Point,
    cvr_check_digit,
)


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


def cvr_number(n: int) -> str:
    """The n-th of a series of distinct, valid CVR numbers (n below 1,000,000)."""
    for first in range(2, 10):  # disjoint ranges: a prefix no check digit fits moves on
        prefix = str(first * 1_000_000 + n)
        last = cvr_check_digit(prefix)
        if last is not None:
            return prefix + str(last)
    raise ValueError(n)
