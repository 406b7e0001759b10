"""The condition language: parsing, negation normal form, evaluation and compilation."""

from __future__ import annotations

import pytest

from engine.rulebase import conditions as c

DERIVED = ("option",)


def test_not_is_pushed_to_the_leaves() -> None:
    node = c.parse(
        {
            "not": {
                "all": [
                    {"data.labeled_examples": {"lt": 100}},
                    {"data.quality": {"in": ["good", "fair"]}},
                ]
            }
        }
    )
    assert node == c.Group(
        "any",
        (
            c.Leaf("data.labeled_examples", "ge", 100),
            c.Leaf("data.quality", "not_in", ("good", "fair")),
        ),
    )


def test_missing_values_make_every_comparison_false() -> None:
    bindings = {"case": {"data.quality": "good"}}
    for cond in (
        {"business.kpi": "x"},
        {"business.kpi": {"ne": "x"}},
        {"not": {"business.kpi": "x"}},
    ):
        assert not c.evaluate(c.parse(cond), bindings, DERIVED)
    assert c.evaluate(c.parse({"business.kpi": {"exists": False}}), bindings, DERIVED)
    assert not c.evaluate(c.parse({"not": {"business.kpi": {"exists": False}}}), bindings, DERIVED)


def test_references_and_joins() -> None:
    node = c.parse(
        {
            "all": [
                {"option.min_labeled_examples": {"gt": {"ref": "data.labeled_examples"}}},
                {"option.rung": "hosted-custom"},
            ]
        }
    )
    facts = {
        "case": [{"data.labeled_examples": 50}],
        "option": [
            {"rung": "hosted-custom", "min_labeled_examples": 100},
            {"rung": "hosted-custom", "min_labeled_examples": 10},
            {"rung": "pre-built", "min_labeled_examples": 0},
        ],
    }
    found = c.matches(node, facts, DERIVED)
    assert [b["option"]["min_labeled_examples"] for b in found] == [100]


def test_failing_leaves_explain_a_false_condition() -> None:
    node = c.parse({"all": [{"data.available": True}, {"data.labeled_examples": {"ge": 100}}]})
    failed = c.failing_leaves(
        node, {"case": {"data.available": True, "data.labeled_examples": 5}}, DERIVED
    )
    assert failed == [c.Leaf("data.labeled_examples", "ge", 100)]


def test_compile_splits_cross_type_any_into_branches() -> None:
    node = c.parse(
        {
            "any": [
                {
                    "all": [
                        {"option.cost_tier": "high"},
                        {"business.budget_usd_per_month": {"lt": 10}},
                    ]
                },
                {"option.cost_tier": "low"},
            ]
        }
    )
    branches = c.compile_durable(node, DERIVED)
    assert len(branches) == 2
    assert [list(p) for p in branches[0]] == [["case"], ["option"]]


def test_same_fact_reference_uses_m() -> None:
    node = c.parse(
        {"business.budget_usd_per_month": {"gt": {"ref": "business.expected_value_usd_per_month"}}}
    )
    (patterns,) = c.compile_durable(node, DERIVED)
    assert patterns[0]["case"]["$and"][1] == {
        "$gt": {"business__budget_usd_per_month": {"$m": "business__expected_value_usd_per_month"}}
    }


@pytest.mark.parametrize(
    ("cond", "problem"),
    [
        ({"data.x": {"near": 1}}, "unknown operator"),
        ({"data.x": {"in": []}}, "non-empty list"),
        ({"all": []}, "non-empty list"),
        ({"data.x": {"exists": "yes"}}, "true or false"),
    ],
)
def test_malformed_conditions(cond: dict, problem: str) -> None:
    with pytest.raises(c.ConditionError, match=problem):
        c.parse(cond)
