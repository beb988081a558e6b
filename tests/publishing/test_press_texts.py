"""The press release a municipality publishes as it is: each language's text holds no sentence
of the other and no raw setting, it has the parts of a release (headline with the news,
dateline, lede, quote slot, facts, press contact, "Om tallene"), estimates are rounded as a press
officer writes them, the tax figure is a labelled example kept out of the headline and lede, and
the HTML keeps its headings in order under the page's language."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest

from chalicelib.domain.errors import InvalidParameter
from chalicelib.publishing import press
from chalicelib.publishing.barometer import BarometerBuilder, load_parameters

YEAR = 2025
TODAY = date(2026, 12, 2)
CONTACT = {"name": "Erhverv Vordingborg", "phone": "55 36 36 36", "email": "erhverv@vb.example"}
# Words that give a sentence away as the other language (space-delimited, so names and file
# names do not trip them).
ENGLISH = (" the ", " and ", " of ", " is ", " are ", " with ", " from ", " that ", " was ")
DANISH = (" og ", " er ", " af ", " til ", " med ", " der ", " ikke ", " i alt", " kommune")


def _doc(shape: str) -> dict[str, Any]:
    """A barometer of Guldborgsund and Vordingborg from public properties, in one of a few
    shapes: growth, decline, none the year before, and networks."""
    builder = BarometerBuilder(YEAR, ("376", "390"), load_parameters())
    founded = {"growth": "2025-04-01", "decline": "2010-01-01"}
    n = 0
    for code, micro, big in (("376", 14, 2), ("390", 5, 1)):
        for i in range(micro + big):
            n += 1
            ceased = "2025-06-01" if shape == "decline" and i % 2 else None
            early = founded.get(shape, "2012-01-01") if i % 3 == 0 else "2012-05-05"
            builder.add(
                {
                    "id": f"{20000000 + n}",
                    "municipality": code,
                    "founded": "2025-02-01" if shape == "first" else early,
                    "ceased": ceased,
                    "employees": "2-4" if i < micro else "20-49",
                    "company_form": "ENK" if i % 2 else "APS",
                    "industry_section": "FGI"[i % 3],
                    "reklamebeskyttet": i % 4 == 0,
                }
            )
    networks = []
    if shape == "networks":
        networks = [
            {
                "id": "laug",
                "properties": {
                    "name": "Håndværkerlauget",
                    "municipalities": "0376|0390",
                    "member_count": 2,
                },
            }
        ]
    return builder.result(networks)


SHAPES = ("growth", "decline", "first", "networks", "same")


class _Text(HTMLParser):
    """The text a reader sees (and a screen reader reads), headings in order, the page's
    language."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.headings: list[int] = []
        self.lang: str | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag in ("style", "script"):
            self._skip += 1
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1
        if tag in ("p", "li", "h1", "h2", "title", "desc", "text", "th", "td"):
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def _seen(page: str) -> _Text:
    parser = _Text()
    parser.feed(page)
    return parser


def _sentences(text: str) -> list[str]:
    """The text as sentences and lines, each padded so a word at its ends is found too."""
    parts = re.split(r"(?<=[.!?:;])\s+|\n+", text)
    return [f" {p.strip()} " for p in parts if p.strip()]


def _markdown_text(markdown: str) -> str:
    """Markdown without its markup: image links (file names) and emphasis left out."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"[*#>|]", " ", text)


def _releases(doc: dict[str, Any], lang: str) -> list[str]:
    one = press.select(doc, ["390"])
    out = []
    for d, contacts in ((doc, None), (one, {"390": CONTACT}), (one, None)):
        out.append(_markdown_text(press.markdown(d, lang, contacts=contacts, today=TODAY)))
        out.append("\n".join(_seen(press.html(d, lang, contacts=contacts, today=TODAY)).text))
    return out


def _same(doc: dict[str, Any]) -> dict[str, Any]:
    for m in (doc["total"], *doc["municipalities"].values()):
        m["micro_businesses_previous_year"] = m["micro_businesses"]
        m["micro_change"], m["micro_change_pct"] = 0, 0.0
        m["net_change"], m["new"], m["closed"] = 0, 3, 3
    return doc


@pytest.mark.parametrize("shape", SHAPES)
def test_the_danish_release_has_no_english_sentence_and_no_raw_setting(shape: str) -> None:
    doc = _same(_doc("growth")) if shape == "same" else _doc(shape)
    for text in _releases(doc, "da"):
        assert "=" not in text and "_" not in text, text
        assert "Example" not in text and "default" not in text
        for sentence in _sentences(text):
            found = [w for w in ENGLISH if w in sentence.lower()]
            assert not found, (found, sentence)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_english_release_has_no_danish_sentence_and_no_raw_setting(shape: str) -> None:
    doc = _same(_doc("growth")) if shape == "same" else _doc(shape)
    for text in _releases(doc, "en"):
        assert "=" not in text and "_" not in text, text
        assert not re.search("[æøå]", text, re.IGNORECASE), text
        for sentence in _sentences(text):
            found = [w for w in DANISH if w in sentence.lower()]
            assert not found, (found, sentence)


def test_a_release_has_the_parts_a_municipality_publishes() -> None:
    doc = press.select(_doc("growth"), ["390"])
    figures = doc["total"]
    da = press.markdown(doc, "da", contacts={"390": CONTACT}, today=TODAY)
    lines = da.splitlines()
    change = figures["micro_change"]
    assert change > 1
    assert lines[0] == f"# Mikrobarometer {YEAR}: Vordingborg Kommune fik {change} flere " + (
        "mikrovirksomheder"
    )
    assert lines[2] == "*Pressemeddelelse fra Vordingborg Kommune, 2. december 2026*"
    micro = figures["micro_businesses"]
    assert lines[4].startswith(
        f"**Ved udgangen af {YEAR} var der {micro} aktive mikrovirksomheder (0-9 ansatte) i "
        f"Vordingborg Kommune, {change} flere end året før."
    )
    assert f"> {press.QUOTE_SLOT['da']}" in lines
    for heading in ("## Fakta", "## Pressekontakt", "## Om tallene"):
        assert heading in lines
    assert "- Erhverv Vordingborg, 55 36 36 36, erhverv@vb.example" in lines
    assert "[Pressekontakt" not in da
    # the comparison is with the one figure the data has beyond the municipality
    whole = _doc("growth")["total"]["micro_businesses"]
    assert f"I de 2 kommuner, som Mikrokort dækker, var der i alt {whole} mikrovirksomheder" in da
    en = press.markdown(doc, "en", today=TODAY)
    assert en.splitlines()[0] == (
        f"# Micro-business barometer {YEAR}: Vordingborg Municipality gained {change} "
        "micro-businesses"
    )
    assert "*Press release from Vordingborg Municipality, 2 December 2026*" in en
    for heading in ("## Facts", "## Press contact", "## About the figures"):
        assert heading in en.splitlines()


def test_without_a_business_contact_the_release_has_a_marked_slot() -> None:
    doc = _doc("growth")
    da = press.markdown(doc, "da", contacts={"376": None}, today=TODAY)
    assert "- [Pressekontakt: navn, telefon, e-mail] (Guldborgsund Kommune)" in da
    assert "- [Pressekontakt: navn, telefon, e-mail] (Vordingborg Kommune)" in da
    one = press.html(press.select(doc, ["376"]), "en", today=TODAY)
    assert "<li>[Press contact: name, phone, email]</li>" in one


def test_the_headline_tells_the_news_in_each_direction() -> None:
    decline = press.select(_doc("decline"), ["376"])
    lost = -decline["total"]["micro_change"]
    assert lost > 1
    assert press.release(decline, "da", today=TODAY).title.endswith(
        f"Guldborgsund Kommune mistede {lost} mikrovirksomheder"
    )
    assert press.release(decline, "en", today=TODAY).title.endswith(
        f"Guldborgsund Municipality lost {lost} micro-businesses"
    )
    first = press.select(_doc("first"), ["376"])
    assert first["total"]["micro_businesses_previous_year"] == 0
    micro = first["total"]["micro_businesses"]
    assert press.release(first, "da", today=TODAY).title.endswith(
        f"Guldborgsund Kommune har {micro} mikrovirksomheder"
    )
    same = press.select(_same(_doc("growth")), ["376"])
    said = press.release(same, "da", today=TODAY)
    assert said.title.endswith(f"har fortsat {same['total']['micro_businesses']} mikrovirksomheder")
    assert "lige så mange som året før" in said.lede
    one = press.select(_doc("growth"), ["376"])
    for m in (one["total"],):
        m["micro_change"] = 1
    assert press.release(one, "da", today=TODAY).title.endswith("fik 1 mikrovirksomhed mere")
    assert press.release(one, "en", today=TODAY).title.endswith("gained 1 micro-business")


def test_the_tax_figure_is_a_rounded_example_kept_out_of_headline_and_lede() -> None:
    doc = press.select(_doc("growth"), ["376"])
    doc["total"]["tax_estimate_dkk"] = 455_250_000
    doc["municipalities"]["376"]["tax_estimate_dkk"] = 455_250_000
    for lang, rounded, label in (
        ("da", "ca. 455 mio. kr.", "regneeksempel"),
        ("en", "about DKK 455 million", "worked example"),
    ):
        r = press.release(doc, lang, today=TODAY)
        text = press.markdown(doc, lang, today=TODAY)
        assert "455.250.000" not in text and "455,250,000" not in text
        [tax] = [(k, v) for k, v in r.facts if "skat" in k.lower() or "tax" in k.lower()]
        assert tax[1] == rounded and label in tax[0]
        assert rounded in " ".join(r.about)
        for part in (r.title, r.lede):
            assert "kr." not in part and "DKK" not in part and "skat" not in part
            assert "tax" not in part


def test_a_tax_figure_with_its_own_dated_source_is_called_an_estimate() -> None:
    doc = press.select(_doc("growth"), ["376"])
    tax = doc["parameters"]["tax"]
    tax.update(
        rates={"376": 0.258, "390": 0.255},
        example=False,
        source_da="Skatteprocenter 2025 fra kommunens budget, vedtaget 10. oktober 2024.",
        source_en="Tax rates 2025 from the municipal budget, adopted 10 October 2024.",
    )
    da = press.release(doc, "da", today=TODAY)
    assert any(k == "Kommuneskat af jobbene (skøn)" for k, _ in da.facts)
    assert any("vedtaget 10. oktober 2024" in line for line in da.about)
    assert any("25,80 %" in line for line in da.about)
    en = press.release(doc, "en", today=TODAY)
    assert any("adopted 10 October 2024" in line for line in en.about)
    # a rate missing for one of the municipalities makes it an example again
    both = _doc("growth")
    both["parameters"]["tax"].update(tax | {"rates": {"376": 0.258}})
    assert any("regneeksempel" in k for k, _ in press.release(both, "da", today=TODAY).facts)


@pytest.mark.parametrize(
    ("dkk", "da", "en"),
    [
        (455_250_000, "ca. 455 mio. kr.", "about DKK 455 million"),
        (45_520_000, "ca. 46 mio. kr.", "about DKK 46 million"),
        (4_560_000, "ca. 4,6 mio. kr.", "about DKK 4.6 million"),
        (1_234_000_000, "ca. 1,2 mia. kr.", "about DKK 1.2 billion"),
        (456_700, "ca. 457.000 kr.", "about DKK 457,000"),
    ],
)
def test_amounts_are_rounded_as_a_press_officer_writes_them(dkk: int, da: str, en: str) -> None:
    assert press.amount(dkk, "da") == da
    assert press.amount(dkk, "en") == en


def test_every_figure_says_its_level_and_the_official_figure_is_explained() -> None:
    doc = press.select(_doc("growth"), ["376"])
    da = press.release(doc, "da", today=TODAY)
    jobs = [k for k, _ in da.facts if k.startswith("Job")]
    assert jobs and all("niveau" in k for k in jobs)
    about = " ".join(da.about)
    assert "virksomhedsniveau" in about and "arbejdsstedsniveau" in about
    assert "Danmarks Statistik" in about and "offentlige sektor" in about
    assert "reklamebeskyttede" in about
    en = " ".join(press.release(doc, "en", today=TODAY).about)
    assert "company level" in en and "Statistics Denmark" in en and "public sector" in en


def test_the_html_has_its_headings_in_order_and_its_language() -> None:
    for doc in (_doc("networks"), press.select(_doc("growth"), ["390"])):
        for lang in ("da", "en"):
            seen = _seen(press.html(doc, lang, today=TODAY))
            assert seen.lang == lang
            assert seen.headings[0] == 1 and seen.headings.count(1) == 1
            steps = zip(seen.headings, seen.headings[1:], strict=False)
            assert all(b <= a + 1 for a, b in steps), seen.headings


def test_a_release_for_some_municipalities_sums_theirs() -> None:
    doc = _doc("networks")
    one = press.select(doc, ["0390"])
    assert one["total"]["micro_businesses"] == doc["municipalities"]["390"]["micro_businesses"]
    assert list(one["municipalities"]) == ["390"] and one["covered"]["total"] == doc["total"]
    assert press.select(doc, ["376", "390"]) is doc
    with pytest.raises(InvalidParameter) as err:
        press.select(doc, ["101"])
    assert err.value.parameter == "municipality"
    # three of the covered ones: summed, shares computed anew, a shared network counted once
    builder = BarometerBuilder(YEAR, ("376", "390", "360"), load_parameters())
    for i, code in enumerate(("376", "390", "360", "376")):
        builder.add(
            {
                "id": f"{30000000 + i}",
                "municipality": code,
                "founded": "2015-01-01",
                "ceased": None,
                "employees": "1" if i else "10-19",
                "company_form": "APS",
                "industry_section": "F",
            }
        )
    net = {
        "id": "n",
        "properties": {
            "name": "Net",
            "municipalities": "0376|0390",
            "member_count": 1,
        },
    }
    whole = builder.result([net])
    two = press.select(whole, ["376", "390"])
    total = two["total"]
    assert (total["micro_businesses"], total["all_businesses"]) == (2, 3)
    assert total["micro_share"] == round(2 / 3, 4)
    assert total["networks"]["count"] == 1
    assert "Der er 1 lokalt netværk i kommunerne." in press.markdown(two, "da", today=TODAY)
