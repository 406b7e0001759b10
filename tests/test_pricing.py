"""The cost estimate's arithmetic (engine/rulebase/pricing.py) on price tables written here, and
the price table's validation when a rule base is loaded.

The figures of knowledge/pricing.yaml itself are checked end to end in tests/test_costs.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.errors import RuleBaseError
from engine.rulebase.loading import load_rulebase
from engine.rulebase.pricing import Pricing, estimate, payback_months
from tests.conftest import ROOT


def table(*offers: dict[str, Any], **defaults: dict[str, Any]) -> Pricing:
    return Pricing.model_validate({
        "schema": "mladvisor.pricing/1", "region": "us-east-1", "chars_per_token": 4,
        "hours_per_month": 730, "request_defaults": defaults, "offers": list(offers)})


def offer(running: list[dict[str, Any]], build: list[dict[str, Any]] | None = None
          ) -> dict[str, Any]:
    return {"offer": "o", "checked": "2026-12-02", "source": "https://example.com/pricing",
            "running": running, "build": build or []}


CHARS = {"driver": "input_chars", "per": 100, "usd": {"low": 0.0001, "high": 0.0001},
         "min_units_per_request": 300, "what": "per 100 characters"}
TOKENS_IN = {"driver": "input_tokens", "per": 1_000_000, "usd": {"low": 0.035, "high": 3.0},
             "what": "input tokens"}
TOKENS_OUT = {"driver": "output_tokens", "per": 1_000_000, "usd": {"low": 0.14, "high": 15.0},
              "what": "output tokens"}
ENDPOINT = {"driver": "endpoint_hours", "per": 1, "usd": {"low": 0.23, "high": 1.0},
            "requests_per_instance_month": {"low": 1_000_000, "high": 2_000_000},
            "what": "one instance"}


def case(**answers: Any) -> dict[str, Any]:
    base = {"problem.task": "summarization", "problem.requests_per_month": 2000}
    base.update({k.replace("__", "."): v for k, v in answers.items()})
    return base


def test_characters_are_billed_with_the_per_request_minimum() -> None:
    pricing = table(offer([CHARS]), **{"sentiment-analysis": {"input_chars": 120}})
    got = estimate(pricing, "o", case(problem__task="sentiment-analysis",
                                      problem__requests_per_month=200_000))
    # 120 characters are billed as the 300-character minimum: 200,000 x 300 / 100 x 0.0001
    assert got.cost is not None
    assert got.cost["low_usd_per_month"] == got.cost["high_usd_per_month"] == 60.0
    assert got.assumed == ["problem.input_chars_per_request"]
    assert "200,000 requests x 300 characters in" in got.cost["basis"][0]


def test_tokens_follow_characters_and_the_range_spans_the_models() -> None:
    pricing = table(offer([TOKENS_IN, TOKENS_OUT]))
    got = estimate(pricing, "o", case(problem__input_chars_per_request=2000,
                                      problem__output_chars_per_request=1500))
    assert got.cost is not None and got.assumed == []
    # 2,000 x 2,000 / 4 = 1M tokens in; 2,000 x 1,500 / 4 = 750,000 tokens out
    assert got.cost["low_usd_per_month"] == pytest.approx(0.035 + 0.75 * 0.14, abs=0.01)
    assert got.cost["high_usd_per_month"] == pytest.approx(3.0 + 0.75 * 15.0, abs=0.01)
    assert "2,000 requests x 2,000 characters / 4 = 1,000,000 tokens in" in got.cost["basis"][0]


def test_doubling_the_volume_doubles_per_request_lines_not_an_endpoint() -> None:
    tokens, endpoint = table(offer([TOKENS_IN])), table(offer([ENDPOINT]))
    sizes = {"problem__input_chars_per_request": 4000}
    one = estimate(tokens, "o", case(**sizes)).cost
    two = estimate(tokens, "o", case(problem__requests_per_month=4000, **sizes)).cost
    assert one is not None and two is not None
    assert two["high_usd_per_month"] == pytest.approx(2 * one["high_usd_per_month"])
    small = estimate(endpoint, "o", case(problem__requests_per_month=400_000)).cost
    double = estimate(endpoint, "o", case(problem__requests_per_month=800_000)).cost
    beyond = estimate(endpoint, "o", case(problem__requests_per_month=1_500_000)).cost
    assert small == double  # one instance serves both
    assert small is not None and beyond is not None
    assert small["low_usd_per_month"] == pytest.approx(730 * 0.23)
    # past one instance's capacity at the high end, the dearest case needs a second one
    assert beyond["low_usd_per_month"] == small["low_usd_per_month"]
    assert beyond["high_usd_per_month"] == pytest.approx(2 * small["high_usd_per_month"])
    assert "1-2 instance(s) x 730 hours" in beyond["basis"][0]


def test_no_volume_no_estimate_but_an_endpoint_is_priced_anyway() -> None:
    none = estimate(table(offer([TOKENS_IN])), "o", {"problem.task": "summarization"})
    assert none.cost is None and "problem.requests_per_month" in none.note
    always_on = estimate(table(offer([ENDPOINT])), "o", {"problem.task": "summarization"})
    assert always_on.cost is not None and always_on.cost["low_usd_per_month"] > 0


def test_an_unpriced_offer_says_so() -> None:
    got = estimate(table(), "o", case())
    assert got.cost is None and got.note == "no price in the catalog for this option"


def test_own_hardware_keeps_the_build_and_drops_the_provider_running_price() -> None:
    build = [{"driver": "training_hours", "per": 1, "usd": {"low": 1.0, "high": 1.0},
              "quantity": {"low": 5, "high": 40}, "what": "training"}]
    got = estimate(table(offer([ENDPOINT], build)), "o", case(), running=False,
                   where="The model runs on the organisation's servers.")
    assert got.cost is not None
    assert got.cost["low_usd_per_month"] == got.cost["high_usd_per_month"] == 0
    assert got.cost["build_usd"] == {"low": 5.0, "high": 40.0}
    assert got.cost["basis"][0].startswith("running: no provider price (the model runs")


def test_labels_bought_are_counted_from_the_labels_still_missing() -> None:
    build = [{"driver": "labels", "per": 1, "usd": {"low": 0.08, "high": 0.5},
              "what": "labelling"}]
    got = estimate(table(offer([], build)), "o", case(data__labeled_examples=400),
                   labels_needed=1000)
    assert got.cost is not None
    assert got.cost["build_usd"] == {"low": 48.0, "high": 300.0}
    enough = estimate(table(offer([], build)), "o", case(data__labeled_examples=4000),
                      labels_needed=1000)
    assert enough.cost is not None and enough.cost["build_usd"]["high"] == 0


def test_payback_is_build_over_the_margin_and_absent_when_it_never_pays() -> None:
    cost = {"low_usd_per_month": 100.0, "high_usd_per_month": 400.0,
            "build_usd": {"low": 1000.0, "high": 6000.0}}
    assert payback_months(cost, 1100.0) == {"low": 1.0, "high": 8.6}
    assert payback_months(cost, 300.0) is None  # the dearest case loses money every month
    assert payback_months(cost, None) is None
    assert payback_months({**cost, "build_usd": {"low": 0, "high": 0}}, 1100.0) is None


JOBS = {"driver": "batch_hours", "per": 1, "usd": {"low": 0.23, "high": 1.0},
        "requests_per_instance_month": {"low": 730_000, "high": 7_300_000}, "min_hours": 2,
        "what": "batch jobs"}


def test_jobs_replace_the_endpoint_when_no_response_time_is_stated() -> None:
    batch = table({**offer([ENDPOINT]), "batch": [JOBS]})
    big = estimate(batch, "o", case(problem__requests_per_month=100_000)).cost
    assert big is not None
    # 1,000 to 10,000 requests an hour: 10 to 100 job hours at 0.23 to 1.00 USD
    assert (big["low_usd_per_month"], big["high_usd_per_month"]) == (2.3, 100.0)
    assert big["basis"][0].startswith("batch:")
    assert "100,000 requests at 1,000-10,000 an hour = 10-100 job hours" in big["basis"][1]
    small = estimate(batch, "o", case(problem__requests_per_month=10)).cost
    assert small is not None and small["low_usd_per_month"] == 0.46  # the 2-hour minimum
    waits = estimate(batch, "o", case(latency__p95_ms=500)).cost
    assert waits is not None and "730 hours" in waits["basis"][0]
    hourly = Pricing.model_validate({**batch.model_dump(by_alias=True),
                                     "batch_latency_ms": 3_600_000})
    assert estimate(hourly, "o", case(latency__p95_ms=7_200_000)).cost["basis"][0].startswith(
        "batch:")


@pytest.mark.parametrize("bad, complaint", [
    ({"driver": "batch_hours", "per": 1, "usd": {"low": 1, "high": 1}, "what": "x"},
     "needs requests_per_instance_month"),
    ({"driver": "characters", "per": 1, "usd": {"low": 1, "high": 1}, "what": "x"}, "driver"),
    ({"driver": "requests", "per": 0, "usd": {"low": 1, "high": 1}, "what": "x"}, "per"),
    ({"driver": "requests", "per": 1, "usd": {"low": 2, "high": 1}, "what": "x"}, "low"),
    ({**TOKENS_IN, "requests_per_instance_month": {"low": 1, "high": 2}}, "endpoint_hours"),
])
def test_a_bad_price_line_is_refused(bad: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        table(offer([bad]))


def test_a_batch_route_never_bills_an_always_on_endpoint() -> None:
    with pytest.raises(ValueError, match="use batch_hours"):
        table({**offer([ENDPOINT]), "batch": [ENDPOINT]})


def test_a_price_for_an_offer_the_catalog_lacks_names_file_and_line(tmp_path: Path) -> None:
    for folder in ("rules", "knowledge"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    path = tmp_path / "knowledge" / "pricing.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - offer: ", "  - offer: no-such-offer\n    checked: "
                                 "2026-12-02\n    source: https://example.com\n  - offer: ", 1),
                    encoding="utf-8")
    with pytest.raises(RuleBaseError) as raised:
        load_rulebase(tmp_path)
    assert "pricing.yaml" in str(raised.value) and "no-such-offer" in str(raised.value)
