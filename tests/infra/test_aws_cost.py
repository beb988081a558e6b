"""bench/aws_cost.py, the estimate in docs/OPERATIONS.md: its sums add up, its figures move
with its assumptions the way AWS bills them, and a bad argument is a one-line error."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from dataclasses import replace
from types import ModuleType

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def cost() -> ModuleType:
    spec = importlib.util.spec_from_file_location("aws_cost", ROOT / "bench" / "aws_cost.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["aws_cost"] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sizes(cost: ModuleType) -> object:
    return cost.measure_sizes(sample=100)


def _by(lines: list, service: str, what: str) -> float:
    (line,) = [x for x in lines if x.service == service and x.what == what]
    return line.usd


def test_sizes_are_measured_on_the_stores_items(cost: ModuleType, sizes: object) -> None:
    from chalicelib.demo.generate import generate_businesses
    from chalicelib.store.dynamodb.items import business_item

    (b,) = generate_businesses(1, seed=5)
    item = business_item(b, 1)
    # DynamoDB counts names and values: at least the bytes of the two JSON documents
    assert cost._size(item) >= len(item["doc"]["B"]) + len(item["feature"]["S"])
    assert 500 < sizes.index_entry < sizes.table_item < 10_000


def test_one_stack_for_98_costs_less_than_98_stacks_and_fixed_costs_scale_with_stacks(
    cost: ModuleType, sizes: object
) -> None:
    w = cost.Workload()
    one = cost.monthly(w, sizes)
    shared = cost.monthly(replace(w, municipalities=98), sizes)
    each = cost.monthly(replace(w, municipalities=98, stacks=98), sizes)
    total = {
        k: sum(x.usd for x in v) for k, v in {"one": one, "shared": shared, "each": each}.items()
    }
    assert total["one"] < total["shared"] < total["each"]
    assert total["each"] == pytest.approx(98 * total["one"], rel=0.01)
    for service, what in (("AWS WAF", "web ACL"), ("Secrets Manager", "3 secrets")):
        assert _by(shared, service, what) == _by(one, service, what)
        assert _by(each, service, what) == pytest.approx(98 * _by(one, service, what))
    assert _by(one, "AWS WAF", "web ACL") == pytest.approx(5.00)


def test_reads_follow_the_page_views_and_the_region_factor_every_price(
    cost: ModuleType, sizes: object
) -> None:
    w = cost.Workload()
    base = cost.monthly(w, sizes)
    busy = cost.monthly(replace(w, page_views=2 * w.page_views), sizes)
    reads, busy_reads = (_by(x, "DynamoDB", "reads (on demand)") for x in (base, busy))
    assert 1.9 * reads < busy_reads < 2.1 * reads  # the refresh and snapshot reads stay
    eu = cost.monthly(replace(w, region_factor=1.2), sizes)
    assert sum(x.usd for x in eu) == pytest.approx(1.2 * sum(x.usd for x in base))


def test_the_script_prints_its_prices_date_and_refuses_bad_numbers() -> None:
    script = str(ROOT / "bench" / "aws_cost.py")
    done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "us-east-1 list prices, January 2025" in done.stdout
    assert "per municipality" in done.stdout
    bad = subprocess.run(
        [sys.executable, script, "--businesses", "0"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1].endswith("--page-views not negative")
