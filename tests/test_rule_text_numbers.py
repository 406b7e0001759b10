"""Numbers inside rule texts read as the report writes them: thousands grouped, never in
exponent notation (a budget of 1,000,000.0 once read "1e+06")."""

from __future__ import annotations

from engine.rulebase.templates import fill

CASE = {"case": {"problem.requests_per_month": 200000, "business.budget_usd_per_month": 1e6,
                 "problem.latency_p95_ms": 2000.0, "data.labeled_examples": 450}}


def test_numbers_in_a_sentence_are_grouped_and_never_in_exponent_notation() -> None:
    text = fill("At {problem.requests_per_month} requests and a budget of "
                "{business.budget_usd_per_month} USD, {data.labeled_examples} labels, "
                "{problem.latency_p95_ms} ms", CASE)
    assert text == ("At 200,000 requests and a budget of 1,000,000 USD, 450 labels, 2,000 ms")


def test_a_lone_placeholder_keeps_its_type_for_then_blocks() -> None:
    assert fill("{problem.requests_per_month}", CASE) == 200000
    assert fill("{business.budget_usd_per_month}", CASE) == 1e6
