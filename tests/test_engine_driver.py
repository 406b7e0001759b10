"""The engine's own driver of durable_rules' C core (issue 15): sessions, activations, wire text
and compiled templates, against the real core and the rule base in rules/."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from engine.api import assess
from engine.rulebase import inference
from engine.rulebase.inference import compiled_for, infer_case, wire_json
from engine.rulebase.loading import default_rulebase
from engine.rulebase.templates import compile_template, fill


def _case() -> dict[str, Any]:
    rb = default_rulebase()
    return assess({"answers": copy.deepcopy(rb.baseline)}, rb).run.bodies["case1"]


def test_sessions_never_pile_up_past_the_cores_limit_of_live_sessions() -> None:
    """durable_rules keeps at most 1,024 live sessions per ruleset: 1,100 cases in a row only
    work if each session is emptied for the next (or deleted), and each gives the same firings."""
    rb = default_rulebase()
    case = _case()
    first = [f.rule.id for f in infer_case(rb, dict(case), {})[0].firings]
    assert first
    for _ in range(1100):
        run, _ = infer_case(rb, dict(case), {})
    assert [f.rule.id for f in run.firings] == first


def test_a_finished_session_is_left_empty_and_serves_the_next_case(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The core holds none of a case's facts once it is done (they are retracted), and the
    next case runs in the same session."""
    rb = default_rulebase()
    # a compiled rule base of its own: earlier tests in this process (threads of the web
    # server) may have left several idle sessions in the shared one
    monkeypatch.setattr(inference, "_COMPILED", {})
    compiled = compiled_for(rb)
    core = inference._core()
    infer_case(rb, _case(), {})
    assert len(compiled._idle) == 1
    sid = compiled._idle[0]
    assert json.loads(core.get_facts(compiled.handle, sid)) == []
    run, _ = infer_case(rb, _case(), {})
    assert run.firings and compiled._idle == [sid]
    assert json.loads(core.get_facts(compiled.handle, sid)) == []


def test_a_session_an_error_left_is_deleted_not_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    rb = default_rulebase()
    monkeypatch.setattr(inference, "_COMPILED", {})  # see the test above
    compiled = compiled_for(rb)
    infer_case(rb, _case(), {})
    (sid,) = compiled._idle

    def broken(*_: Any) -> None:
        raise ZeroDivisionError("in an action")

    monkeypatch.setattr(compiled, "fire", broken)
    with pytest.raises(ZeroDivisionError):
        infer_case(rb, _case(), {})
    assert sid not in compiled._idle
    with pytest.raises(Exception, match="309"):  # ERR_SID_NOT_FOUND: the state is gone
        inference._core().get_state(compiled.handle, sid)


def _finding(severity: str) -> inference.Wire:
    compiled = compiled_for(default_rulebase())
    return compiled._wire("finding", {"rule": "test.rule", "phase": "data",
                                      "severity": severity}, "finding1")


def test_the_core_says_which_facts_no_rule_can_bind() -> None:
    """A finding no rule tests (severity info) is not sent; a blocker, which verdict rules bind,
    is. The probe leaves nothing behind in the core."""
    compiled = compiled_for(default_rulebase())
    assert compiled.takes("finding", _finding("blocker"))
    assert not compiled.takes("finding", _finding("info"))
    assert compiled.takes("case", _finding("info"))  # the case is always sent
    assert json.loads(inference._core().get_facts(compiled.handle, inference._PROBE)) == []


def test_facts_not_sent_are_still_held_for_the_trace_and_the_python_evaluator() -> None:
    rb = default_rulebase()
    run, _ = infer_case(rb, _case(), {})
    compiled = compiled_for(rb)
    kept = [f for f in run.facts.get("finding", [])
            if not compiled.takes("finding", compiled._wire("finding", f, f[inference.ID_FIELD]))]
    assert kept, "the baseline case has findings no rule binds"


def test_a_fact_no_rule_can_match_is_held_for_python_but_harmless_to_the_core() -> None:
    """With no sink rule the core reports such a fact as not handled; the batch still fires."""
    rb = default_rulebase()
    case = _case()
    baseline, _ = infer_case(rb, dict(case), {})
    run, _ = infer_case(rb, dict(case), {"unknown-kind": [{"x": 1}]})
    assert [f.rule.id for f in run.firings] == [f.rule.id for f in baseline.firings]
    assert run.bodies["unknown-kind1"] == {"x": 1}


def test_an_action_error_is_raised_and_the_next_case_still_runs(monkeypatch:
                                                                 pytest.MonkeyPatch) -> None:
    rb = default_rulebase()
    compiled = compiled_for(rb)
    case = _case()

    def broken(*_: Any) -> None:
        raise ZeroDivisionError("in an action")

    monkeypatch.setattr(compiled, "fire", broken)
    with pytest.raises(ZeroDivisionError):
        infer_case(rb, dict(case), {})
    monkeypatch.undo()
    run, _ = infer_case(rb, dict(case), {})
    assert run.firings


def test_activations_name_their_facts_with_or_without_a_parse() -> None:
    """Stepping over each fact's text (its length as sent) and the JSON parse agree; text that
    steps do not account for (facts whose id is not first, or a length that does not fit) falls
    back to the parse."""
    compiled = compiled_for(default_rulebase())
    name = next(n for n, aliases in compiled.aliases.items() if aliases == {"case", "offer"})
    case = '{"id": "case1", "sid": "1", "x": "{\\"id\\": \\"offer9\\"}"}'
    offer = '{"id": "offer3", "sid": "1", "t": "offer"}'
    fast = '{"' + name + '":{"case":' + case + ',"offer":' + offer + '}}'
    sizes = {"case1": len(case), "offer3": len(offer)}
    assert compiled.matched(fast, sizes) == (name, {"case": "case1", "offer": "offer3"})
    assert compiled.matched(fast, {**sizes, "case1": len(case) - 1}) == (
        name, {"case": "case1", "offer": "offer3"})
    slow = json.dumps({name: {"case": {"t": "case", "id": "case1"},
                              "offer": {"t": "offer", "id": "offer3"}}})
    assert compiled.matched(slow, sizes) == (name, {"case": "case1", "offer": "offer3"})


@pytest.mark.parametrize("value", [2**60, -(2**70), [[1e-9]], {"a": (3e17,)}, 1e-300])
def test_wire_json_rewrites_nested_and_huge_numbers_positionally(value: Any) -> None:
    text = wire_json({"x": value})
    assert "e" not in text.lower(), text
    assert json.loads(text)["x"] == json.loads(json.dumps(value, default=list), parse_int=float)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_wire_json_refuses_what_json_cannot_write(value: float) -> None:
    with pytest.raises(ValueError):
        wire_json({"x": {"y": [value]}})


BINDINGS: dict[str, dict[str, Any]] = {
    "case": {"problem.task": "text-classification", "data.labeled_examples": 40,
             "business.budget_usd_per_month": 1500.5, "data.available": True},
    "offer": {"rung": "pre-built", "service": "amazon-comprehend", "cost_low": 12.0},
}


@pytest.mark.parametrize(("template", "expected"), [
    ("{offer}", BINDINGS["offer"]),
    ("{offer.cost_low}", 12.0),
    ("{data.labeled_examples}", 40),
    ("{offer.missing}", None),
    ("{problem.task} with {data.labeled_examples} labels", "text-classification with 40 labels"),
    ("budget {business.budget_usd_per_month}, data {data.available}",
     "budget 1,500.5, data yes"),
    ("{offer.missing} and {no.such}", "(not given) and (not given)"),
    ("no placeholders {}", "no placeholders {}"),
    ({"rung": "{offer.rung}", "why": ["{offer.service}", 3]},
     {"rung": "pre-built", "why": ["amazon-comprehend", 3]}),
])
def test_compiled_templates_fill_as_rules_expect(template: Any, expected: Any) -> None:
    assert compile_template(template)(BINDINGS) == expected
    assert fill(template, BINDINGS) == expected


def test_a_lone_fact_placeholder_gives_a_copy() -> None:
    got = fill("{offer}", BINDINGS)
    got["rung"] = "changed"
    assert BINDINGS["offer"]["rung"] == "pre-built"


def test_the_offer_wire_cache_gives_each_session_its_own_facts() -> None:
    rb = default_rulebase()
    case = _case()
    one, _ = infer_case(rb, dict(case), {})
    two, _ = infer_case(rb, dict(case), {})
    assert one.facts["offer"] == two.facts["offer"]
    assert all(a is not b for a, b in zip(one.facts["offer"], two.facts["offer"], strict=True))
    fids = [f[inference.ID_FIELD] for f in one.facts["offer"]]
    assert fids and all(one.bodies[fid] is not two.bodies[fid] for fid in fids)


def test_the_fitted_offer_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A web process assesses endless distinct answers: the per-answers cache of fitted offers
    is emptied when full instead of growing, and refilling gives the same offers."""
    from engine.rulebase import loading

    rb = loading.load_rulebase()
    monkeypatch.setattr(loading, "OFFER_CACHE_SIZE", 5)
    case = {"problem.task": "text-classification", "problem.deployment_target": "cloud"}
    first = rb.offers_for({**case, "problem.requests_per_month": 1000})
    for n in range(12):
        rb.offers_for({**case, "problem.requests_per_month": 2000 + n})
        assert len(rb._offer_cache) <= 5
    assert rb.offers_for({**case, "problem.requests_per_month": 1000}) == first


def test_fitted_offers_are_shared_and_priced_as_the_arithmetic_prices_them() -> None:
    """Equal fits of a catalog offer are one object (the engine keeps each one's wire form by
    identity), and the cost figures kept per the answers they read are the ones the arithmetic
    gives afresh, whatever the volume, response time and labels at hand."""
    from engine.rulebase import knowledge, loading, pricing

    rb = loading.load_rulebase()
    base = {"problem.task": "text-classification", "problem.deployment_target": "cloud",
            "business.expected_value_usd_per_month": 100}
    priced = 0
    for requests in (None, 1000, 1000.0, 50000):
        for latency in (None, 50, 10**7):
            for labeled in (0, 150, 5000):
                case = {**base, "problem.requests_per_month": requests,
                        "latency.p95_ms": latency, "data.labeled_examples": labeled}
                offers = rb.offers_for(case)
                # an answer the fit does not read: the same objects
                other = rb.offers_for({**case, "business.expected_value_usd_per_month": 900})
                assert offers and all(a is b for a, b in zip(offers, other, strict=True))
                for fitted in offers:
                    running = knowledge._placement(rb.knowledge, fitted["runs"])
                    fresh = pricing._priced(rb.knowledge.pricing, fitted["offer"], case,
                                            fitted["labels_needed"],
                                            running is None or running.cloud_billed, None)
                    assert fitted["cost_priced"] is not isinstance(fresh, str)
                    if not isinstance(fresh, str):
                        priced += 1
                        assert (fitted["cost_low"], fitted["cost_high"], fitted["build_low"],
                                fitted["build_high"], fitted["cost_assumed"]) == (
                            fresh[0].low, fresh[0].high, fresh[0].build_low,
                            fresh[0].build_high, fresh[0].assumed)
    assert priced


def test_a_cases_text_is_the_json_of_its_tested_fields() -> None:
    """The case's text, joined from each field's kept text, is what json.dumps writes, numbers
    the core misreads rewritten; a list value is written but not kept."""
    compiled = compiled_for(default_rulebase())
    case = _case()
    for changed in ({}, {"problem.requests_per_month": 10**17}, {"data.labeled_examples": 0.0},
                    {"problem.classes": [1, 2]}):
        body = {**case, **changed}
        wire = compiled._wire("case", body, "case1")
        fact = {k: v for k, v in wire.fact.items() if k != inference.ID_FIELD}
        assert json.loads("{" + wire.tail[3:]) == json.loads(wire_json(fact))
        assert "e+17" not in wire.tail  # written positionally
        assert list(json.loads("{" + wire.tail[3:])) == list(fact)  # the fields' order kept


def test_derived_facts_kept_by_content_are_each_sessions_own() -> None:
    """Options and findings recur from case to case and their wire forms are kept; each
    session still holds its own copies, numbered in its own order."""
    rb = default_rulebase()
    case = _case()
    one, _ = infer_case(rb, dict(case), {})
    two, _ = infer_case(rb, dict(case), {})
    for kind in ("option", "finding"):
        assert one.facts[kind] and one.facts[kind] == two.facts[kind]
        assert all(a is not b for a, b in zip(one.facts[kind], two.facts[kind], strict=True))
        assert [f[inference.ID_FIELD] for f in one.facts[kind]] == [
            f"{kind}{n}" for n in range(1, len(one.facts[kind]) + 1)]
    sent = [fid for fid in one.bodies if fid.startswith("option")]
    assert sent and all(one.bodies[fid] is not two.bodies[fid] for fid in sent)
