"""The widget's texts, run by Node from the widget's own source module: counts agree in number."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

SCRIPT = """
import { TEXTS, counted, fmt } from './src/i18n.js';
const out = {};
for (const lang of ['da', 'en']) {
  const t = TEXTS[lang];
  out[lang] = {
    status: [1, 2].map((n) => fmt(counted(t, 'status', n), { shown: n, total: n })),
    andMore: [1, 3].map((n) => fmt(counted(t, 'andMore', n), { n })),
    more: [1, 50].map((n) => fmt(counted(t, 'more', n), { n, left: n })),
  };
}
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def texts() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is missing: `make test` installs it")
    done = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT],
        cwd=ROOT / "widget",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_danish_counts_take_singular_and_plural(texts: dict) -> None:
    da = texts["da"]
    assert da["status"] == ["Viser 1 af 1 virksomhed", "Viser 2 af 2 virksomheder"]
    assert da["andMore"] == ["… og 1 mere", "… og 3 flere"]
    assert da["more"] == ["Vis 1 mere (1 tilbage)", "Vis 50 flere (50 tilbage)"]


def test_english_counts_take_singular_and_plural(texts: dict) -> None:
    en = texts["en"]
    assert en["status"] == ["Showing 1 of 1 business", "Showing 2 of 2 businesses"]
    assert en["andMore"] == ["… and 1 more", "… and 3 more"]
    assert en["more"] == ["Show 1 more (1 left)", "Show 50 more (50 left)"]
