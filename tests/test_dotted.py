"""engine/util/dotted.py: the one home of dotted-path get/set/drop/flatten.

Each behaviour a former copy relied on is pinned here by the keyword that selects it."""

from __future__ import annotations

import pytest

from engine.util import dotted

DOC = {"project": {"name": "x", "respondent": None},
       "business": {"success_criteria": [{"metric": "f1", "threshold": 0.8}], "kpi": "k"},
       "team": {}}


def test_get_tells_a_stored_none_from_an_absent_path() -> None:
    assert dotted.get(DOC, "project.name") == "x"
    assert dotted.get(DOC, "project.respondent") is None
    assert dotted.get(DOC, "project.stage") is dotted.MISSING
    assert dotted.get(DOC, "project.name.deeper") is dotted.MISSING  # "x" is not a mapping
    assert dotted.get(DOC, "nothing.here", None) is None
    assert dotted.has(DOC, "project.respondent") and not dotted.has(DOC, "team.size")
    assert not dotted.MISSING and repr(dotted.MISSING) == "MISSING"


def test_set_creates_sections_and_keeps_the_value_itself() -> None:
    doc: dict = {}
    value = ["a"]
    dotted.set(doc, "monitoring.sensitive_attributes", value)
    assert doc == {"monitoring": {"sensitive_attributes": ["a"]}}
    assert doc["monitoring"]["sensitive_attributes"] is value
    dotted.set(doc, "monitoring.plan_exists", None)  # None is an answer ("unknown") by default
    assert doc["monitoring"] == {"sensitive_attributes": ["a"], "plan_exists": None}


def test_set_with_none_drops_removes_the_answer() -> None:
    doc = {"data": {"quality": "good", "available": True}}
    dotted.set(doc, "data.quality", None, none_drops=True)
    assert doc == {"data": {"available": True}}
    dotted.set(doc, "team.ml_expertise", None, none_drops=True)  # absent: nothing to remove
    assert doc == {"data": {"available": True}}


def test_set_through_a_non_mapping_needs_replace() -> None:
    doc = {"data": "oops"}
    with pytest.raises(TypeError, match="data holds str"):
        dotted.set(doc, "data.quality", "good")
    dotted.set(doc, "data.quality", "good", replace=True)
    assert doc == {"data": {"quality": "good"}}


def test_drop_and_prune() -> None:
    doc = {"data": {"quality": "good"}, "team": {"ml_expertise": "none", "size": 3}}
    dotted.drop(doc, "data.quality")
    assert doc == {"data": {}, "team": {"ml_expertise": "none", "size": 3}}
    dotted.drop(doc, "team.ml_expertise", prune=True)
    assert doc == {"data": {}, "team": {"size": 3}}  # the section still holds an answer
    dotted.drop(doc, "team.size", prune=True)
    assert doc == {"data": {}}
    dotted.drop(doc, "nothing.at.all", prune=True)
    dotted.drop(doc, "data.quality.deeper")
    assert doc == {"data": {}}


def test_flatten_keeps_lists_and_none_and_skips_empty_sections_by_default() -> None:
    assert dotted.flatten(DOC) == {
        "project.name": "x", "project.respondent": None,
        "business.success_criteria": [{"metric": "f1", "threshold": 0.8}],
        "business.kpi": "k"}
    assert list(dotted.flatten(DOC)) == ["project.name", "project.respondent",
                                         "business.success_criteria", "business.kpi"]


def test_flatten_as_facts_counts_lists_and_leaves_out_none() -> None:
    assert dotted.flatten(DOC, lists="count", skip_none=True) == {
        "project.name": "x", "business.success_criteria.count": 1, "business.kpi": "k"}


def test_flatten_with_empty_leaf_shows_an_empty_section() -> None:
    flat = dotted.flatten(DOC, empty_leaf=True)
    assert flat["team"] == {} and list(flat)[-1] == "team"
    assert dotted.flatten({}, empty_leaf=True) == {"": {}}
    assert dotted.flatten({}) == {}
    assert dotted.flatten({1: {2: "x"}}) == {"1.2": "x"}  # keys become text
    assert dotted.flatten({"a": 1}, "top") == {"top.a": 1}


def test_get_reads_back_what_flatten_wrote() -> None:
    for path, value in dotted.flatten(DOC).items():
        assert dotted.get(DOC, path) == value
