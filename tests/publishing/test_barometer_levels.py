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


def test_workplace_level_jobs_count_each_unit_where_it_works() -> None:
    params = load_parameters()
    units = [
        Workplace(p_number="1300000001", municipality="376", employees="2-4"),
        Workplace(p_number="1300000002", municipality="390", employees="1"),
        Workplace(p_number="1300000003", municipality="390", employees="5-9", active=False),
    ]
    owned = business("10000012", company_form="ENK", employees="5-9", workplaces=units)
    unread = business("10000020", employees="0")  # units never read: counted at its place
    builder = BarometerBuilder(YEAR, tuple(sorted(COVERED)), params)
    for b in (owned, unread):
        builder.add(_properties(b))
    result = builder.result([])
    owner = params.jobs(None, "ENK")  # the working owner, once, where the business is shown
    assert owner > 0
    guldborgsund, vordingborg = result["municipalities"]["376"], result["municipalities"]["390"]
    assert guldborgsund["jobs_workplaces"] == round(
        params.jobs("2-4", None) + owner + params.jobs("0", "APS"), 1
    )
    assert vordingborg["jobs_workplaces"] == round(params.jobs("1", None), 1)
    assert result["total"]["jobs_workplaces"] == round(
        guldborgsund["jobs_workplaces"] + vordingborg["jobs_workplaces"], 1
    )
    # company level keeps the business's own size, all of it where it is seated
    assert guldborgsund["jobs_micro"] == round(
        params.jobs("5-9", "ENK") + params.jobs("0", "APS"), 1
    )


def test_without_any_unit_read_no_workplace_figure_is_claimed() -> None:
    builder = BarometerBuilder(YEAR, ("376",), load_parameters())
    builder.add(_properties(business("10000020", employees="2-4")))
    result = builder.result([])
    assert "jobs_workplaces" not in result["municipalities"]["376"]
    assert "jobs_workplaces" not in result["total"]
