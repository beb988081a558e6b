"""The release's charts as files a CMS or a Markdown page shows: every one parses as XML, names
itself and describes its values for screen readers in its own language, writes its numbers in
that language's format, and wraps long labels instead of cutting them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson
import pytest

from chalicelib.domain.industry import SECTION_NAMES
from chalicelib.publishing import press
from chalicelib.publishing.barometer import BarometerBuilder, load_parameters
from chalicelib.publishing.charts import hbar_chart, wrap

SVG = "{http://www.w3.org/2000/svg}"
YEAR = 2025
WORDS = {  # a word of each chart's title, in its language
    "da": ("Mikrovirksomheder", "Mikrovirksomheder", "Nye og ophørte"),
    "en": ("Micro-businesses", "Micro-businesses", "New and closed"),
}


def _barometer(count: int) -> dict[str, Any]:
    """A barometer with `count` active micro-businesses in each of the sections N, M and F
    (their long names are the ones a fixed width used to cut)."""
    builder = BarometerBuilder(YEAR, ("376",), load_parameters())
    n = 0
    for section in ("N", "M", "F"):
        for _ in range(count):
            n += 1
            builder.add(
                {
                    "municipality": "376",
                    "founded": "2015-01-01" if n % 7 else "2025-03-01",
                    "ceased": None,
                    "employees": "1",
                    "company_form": "APS",
                    "industry_section": section,
                    "id": f"{10000000 + n}",
                }
            )
    return builder.result([])


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on a repeated attribute or anything else not XML
    assert root.tag == f"{SVG}svg"
    return root


def _texts(root: ET.Element) -> list[str]:
    """Each <text> as read: its tspans' lines joined by spaces."""
    out = []
    for text in root.iter(f"{SVG}text"):
        spans = [s.text or "" for s in text.iter(f"{SVG}tspan")]
        out.append(" ".join(spans) if spans else (text.text or ""))
    return out


@pytest.fixture(scope="module")
def big() -> dict[str, Any]:
    return _barometer(1100)  # 3,300 micro-businesses: thousands separators


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_chart_is_xml_with_a_title_and_description_in_its_language(
    big: dict[str, Any], lang: str
) -> None:
    charts = press.charts(big, lang)
    assert list(charts) == list(press.chart_files(lang))
    for (name, svg), word in zip(charts.items(), WORDS[lang], strict=True):
        root = _parse(svg)
        assert root.get("role") == "img" and root.get("lang") == lang
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert title is not None and desc is not None, name
        assert word in (title.text or ""), (name, title.text)
        labelled = (root.get("aria-labelledby") or "").split()
        assert labelled == [title.get("id"), desc.get("id")]
        other = WORDS["en" if lang == "da" else "da"][2]
        assert other not in svg, name


@pytest.mark.parametrize(
    ("lang", "total", "wrong"), [("da", "3.300", "3,300"), ("en", "3,300", "3.300")]
)
def test_numbers_are_written_in_the_charts_language(
    big: dict[str, Any], lang: str, total: str, wrong: str
) -> None:
    by_year = _parse(press.charts(big, lang)[press.chart_files(lang)[0]])
    assert total in _texts(by_year)  # the bar's own label
    desc = by_year.find(f"{SVG}desc")
    assert desc is not None and f"{YEAR}: {total}" in (desc.text or "")  # read out, too
    assert wrong not in ET.tostring(by_year, encoding="unicode")
    by_section = _parse(press.charts(big, lang)[press.chart_files(lang)[1]])
    assert ("1.100" if lang == "da" else "1,100") in _texts(by_section)


@pytest.mark.parametrize("lang", ["da", "en"])
def test_industry_names_are_wrapped_whole(big: dict[str, Any], lang: str) -> None:
    root = _parse(press.charts(big, lang)[press.chart_files(lang)[1]])
    texts = _texts(root)
    for section in ("N", "M", "F"):
        label = f"{section} {SECTION_NAMES[section][0 if lang == 'da' else 1]}"
        assert label in texts, (label, texts)
    # the Danish name of N did not fit one line of the label column: it has more than one
    if lang == "da":
        [n_label] = [
            t for t in root.iter(f"{SVG}text") if "Administrative" in "".join(t.itertext())
        ]
        assert len(list(n_label.iter(f"{SVG}tspan"))) >= 2
    desc = root.find(f"{SVG}desc")
    assert desc is not None and f"N {SECTION_NAMES['N'][0 if lang == 'da' else 1]}" in (
        desc.text or ""
    )


def test_rows_grow_with_their_lines_so_labels_never_overlap() -> None:
    long = "Et navn der er meget længere end kolonnen med etiketter kan rumme på én linje"
    one = _parse(hbar_chart("T", "D", [("Kort", 1)], ident="a"))
    two = _parse(hbar_chart("T", "D", [("Kort", 1), (long, 2)], ident="b"))
    assert float(two.get("height") or 0) > float(one.get("height") or 0) + 22
    assert long in _texts(two)


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("kort", 300, ["kort"]),
        ("N Administrative tjenesteydelser og hjælpetjenester", 150, None),
        ("Ordetderaldrigslutterogikkekanbrydes ind", 40, None),
        ("  mellemrum   mange  ", 300, ["mellemrum mange"]),
    ],
)
def test_wrap_breaks_between_words_only(text: str, width: float, lines: list[str] | None) -> None:
    got = wrap(text, width, 12)
    assert " ".join(got) == " ".join(text.split())  # nothing cut, nothing added
    if lines is not None:
        assert got == lines
    else:
        assert len(got) > 1


def test_labels_and_titles_with_markup_characters_stay_xml() -> None:
    svg = hbar_chart("A & B <c>", "'d' \"e\"", [("Smed & Søn <ApS>", 3)], ident="x")
    root = _parse(svg)
    assert "Smed & Søn <ApS>" in _texts(root)
    assert (root.find(f"{SVG}title").text or "") == "A & B <c>"  # type: ignore[union-attr]


def test_the_snapshots_charts_are_xml_in_both_languages(snapshot_folder: Path) -> None:
    names = sorted(p.name for p in snapshot_folder.glob("chart-*.svg"))
    assert names == sorted(press.chart_files("da") + press.chart_files("en"))
    barometer = orjson.loads((snapshot_folder / "barometer.json").read_bytes())
    for lang in ("da", "en"):
        for name, word in zip(press.chart_files(lang), WORDS[lang], strict=True):
            data = (snapshot_folder / name).read_bytes()
            root = _parse(data.decode("utf-8"))
            assert word in (root.findtext(f"{SVG}title") or ""), name
            # the published file is what the release of its language draws
            assert data.decode() == press.charts(barometer, lang)[name]
        release = (snapshot_folder / f"barometer_{lang}.md").read_text()
        for name in press.chart_files(lang):
            assert f"]({name})" in release
