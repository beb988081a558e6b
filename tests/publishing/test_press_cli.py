"""`mikrokort barometer --municipality`: a release per municipality (repeatable or
comma-separated, written to a folder), one for several with --together, and a one-line error,
never a traceback, for a code the service does not cover or several releases with nowhere to
go."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from chalicelib.domain.models import MunicipalityContact, Point
from chalicelib.domain.reference import load_municipalities
from chalicelib.store import open_store
from tests.conftest import cli, run_cli
from tests.factories import business, cvr_number

YEAR = 2025


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("press-cli")
    store = open_store(f"sqlite:///{tmp / 'cli.db'}")
    guldborgsund, vordingborg = load_municipalities(["376", "390"])
    contact = MunicipalityContact(name="Erhvervsservice", email="erhverv@vordingborg.example")
    store.upsert_municipalities(
        [guldborgsund, vordingborg.model_copy(update={"business_contact": contact})]
    )
    where = {
        "376": ("4800", Point(lon=11.87, lat=54.77)),
        "390": ("4760", Point(lon=11.91, lat=55.0)),
    }
    store.upsert_businesses(
        business(
            cvr_number(i),
            municipality=code,
            postcode=where[code][0],
            location=where[code][1],
            employees="2-4",
            founded=date(2014, 1, 1),
        )
        for i, code in enumerate(["376"] * 3 + ["390"] * 2)
    )
    store.close()
    return {
        "PATH": os.environ.get("PATH", ""),
        "MIKROKORT_STORE": f"sqlite:///{tmp / 'cli.db'}",
        "MIKROKORT_BLOBS": f"file:///{tmp / 'blobs'}",
        "MIKROKORT_MUNICIPALITIES": "376,390",
    }


def test_one_release_per_municipality_into_a_folder(env: dict[str, str], tmp_path: Path) -> None:
    said = cli(env, "barometer", "--year", str(YEAR), "--municipality", "376",
               "--municipality", "390", "--output", str(tmp_path / "out"))  # fmt: skip
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [f"barometer-{YEAR}-376_da.md", f"barometer-{YEAR}-390_da.md"]
    assert said.count("wrote ") == 2
    guldborgsund = (tmp_path / "out" / files[0]).read_text()
    vordingborg = (tmp_path / "out" / files[1]).read_text()
    assert guldborgsund.startswith(f"# Mikrobarometer {YEAR}: Guldborgsund Kommune ")
    assert "Vordingborg Kommune" not in guldborgsund.split("## Fakta")[0]
    assert "var der 3 aktive mikrovirksomheder" in guldborgsund
    assert "[Pressekontakt: navn, telefon, e-mail]" in guldborgsund
    assert vordingborg.startswith(f"# Mikrobarometer {YEAR}: Vordingborg Kommune ")
    assert "var der 2 aktive mikrovirksomheder" in vordingborg
    assert "- Erhvervsservice, erhverv@vordingborg.example" in vordingborg
    # comma-separated is the same
    cli(env, "barometer", "--year", str(YEAR), "--municipality", "376,390", "--lang", "en",
        "--format", "html", "--output", str(tmp_path / "en"))  # fmt: skip
    names = sorted(p.name for p in (tmp_path / "en").iterdir())
    assert names == [f"barometer-{YEAR}-376_en.html", f"barometer-{YEAR}-390_en.html"]
    assert "<html lang='en'>" in (tmp_path / "en" / names[1]).read_text()


def test_one_release_for_several_on_request(env: dict[str, str]) -> None:
    release = cli(env, "barometer", "--year", str(YEAR), "--municipality", "376,390",
                  "--together")  # fmt: skip
    assert release.startswith(
        f"# Mikrobarometer {YEAR}: Guldborgsund Kommune og Vordingborg Kommune "
    )
    assert "var der 5 aktive mikrovirksomheder" in release
    one = cli(env, "barometer", "--year", str(YEAR), "--municipality", "0390")
    assert "var der 2 aktive mikrovirksomheder (0-9 ansatte) i Vordingborg Kommune" in one


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--municipality", "101"], "not covered by this service"),
        (["--municipality", "abc"], "kommunekode"),
        (["--municipality", "376,"], "kommunekode"),
        (["--municipality", "376", "--municipality", "390"], "--output FOLDER"),
    ],
)
def test_bad_choices_are_one_line_errors(
    env: dict[str, str], args: list[str], message: str
) -> None:
    done = run_cli(env, "barometer", "--year", str(YEAR), *args)
    assert done.code == 1 and done.stdout == ""
    assert message in done.stderr and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
