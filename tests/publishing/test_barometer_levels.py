"""The barometer counts a company seated elsewhere at its local workplace, with that
workplace's employees, and says in both languages which level each figure is at."""

from __future__ import annotations

from chalicelib.domain.models import Point, Workplace
from chalicelib.domain.privacy import public_business
from chalicelib.intake.cvr.units import place
from chalicelib.publishing.barometer import BarometerBuilder, load_parameters
from tests.factories import business

COVERED = frozenset({"376", "390"})
YEAR = 2025


def _properties(b):
    feature = public_business(b)
    assert feature is not None
    return feature["properties"]


def test_a_local_workplace_counts_its_own_jobs_in_its_municipality() -> None:
    params = load_parameters()
    chain = business(
        "10000039",
        company_form="A/S",
        employees="200-499",
        municipality="461",
        postcode="5000",
        city="Odense C",
    )
    shop = Workplace(
        p_number="1200000039",
        address="Jernbanegade 7",
        postcode="4760",
        city="Vordingborg",
        municipality="390",
        employees="5-9",
    )
    local = place(chain, [shop], COVERED).model_copy(
        update={"location": Point(lon=11.9, lat=55.0), "location_precision": "address"}
    )
    seated_here = business("10000004", employees="2-4")
    builder = BarometerBuilder(YEAR, tuple(sorted(COVERED)), params)
    for b in (local, seated_here):
        builder.add(_properties(b))
    result = builder.result([])
    vordingborg = result["municipalities"]["390"]
    assert vordingborg["all_businesses"] == 1
    assert vordingborg["jobs_all"] == params.jobs("5-9", "A/S")  # the shop's, not the chain's
    assert result["municipalities"]["376"]["jobs_all"] == params.jobs("2-4", "APS")
    # a workplace whose company is gone elsewhere is not counted anywhere here
    gone = place(chain, [shop.model_copy(update={"active": False})], COVERED)
    assert public_business(gone) is None


def test_the_notes_say_which_level_each_figure_is_at() -> None:
    notes = BarometerBuilder(YEAR, ("376",), load_parameters()).result([])["notes"]
    da, en = " ".join(notes["da"]), " ".join(notes["en"])
    assert "virksomhedsniveau" in da and "arbejdsstedsniveau" in da and "produktionsenhed" in da
    assert "company level" in en and "workplace level" in en and "production unit" in en
