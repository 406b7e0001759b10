"""The decision as a typed model: one reader (load_decision), one schema id, and the same bytes
after a round trip through the model; one home for how values and strategies read."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.api import assess_files
from engine.errors import InputError
from engine.model.decision import DECISION_SCHEMA, Decision, Strategy, load_decision
from engine.util.canonical import pretty_bytes
from engine.util.display import show_value, strategy_text
from tests.conftest import EXAMPLE_ANSWERS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SAMPLE = ROOT / "tests" / "fixtures" / "report" / "decision-sample.json"


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("answers", EXAMPLE_ANSWERS, ids=lambda p: p.stem)
def test_assess_builds_a_model_whose_dump_is_the_decision(answers: Path) -> None:
    assessment = assess_files(answers)
    assert isinstance(assessment.model, Decision)
    assert assessment.decision_json == pretty_bytes(assessment.model.dump())
    again = load_decision("x", json.loads(assessment.decision_json))
    assert pretty_bytes(again.dump()) == assessment.decision_json


def test_a_saved_decision_reads_back_to_the_same_document(sample: dict[str, Any]) -> None:
    model = load_decision(str(SAMPLE), sample)
    assert model.dump() == sample
    assert model.extra("explanation") == sample["explanation"]  # report-only fields are kept
    assert model.options[0].evidence[0].checks[1].threshold == 500  # an int stays an int
    assert isinstance(model.options[0].evidence[0].checks[1].threshold, int)


@pytest.mark.parametrize("data, path, expected", [
    ([1, 2], "", f"expected a {DECISION_SCHEMA} JSON object, got list"),
    (None, "", "got empty document"),
    ({"schema": "mladvisor.decision/2", "verdict": "proceed", "findings": []}, "schema",
     f"expected {DECISION_SCHEMA}, got mladvisor.decision/2"),
    ({"verdict": "proceed", "findings": []}, "schema", f"expected {DECISION_SCHEMA}"),
    ({"schema": DECISION_SCHEMA, "verdict": "proceed"}, "findings", "is missing"),
    ({"schema": DECISION_SCHEMA, "findings": {}}, "findings", "expected a list, got dict"),
    ({"schema": DECISION_SCHEMA, "verdict": "proceed", "findings": [],
      "options": [{"evidence": [{"checks": [{"value": "high"}]}]}]},
     "options.0.evidence.0.checks.0.value", "expected a number, got high"),
    ({"schema": DECISION_SCHEMA, "verdict": "proceed", "findings": [{"facts": 3}]},
     "findings.0.facts", "expected an object, got 3"),
])
def test_a_bad_decision_is_one_input_error_naming_the_field(data: Any, path: str,
                                                            expected: str) -> None:
    with pytest.raises(InputError) as caught:
        load_decision("saved.json", data)
    assert caught.value.file == "saved.json"
    assert caught.value.path == path
    assert expected in caught.value.message
    assert "\n" not in caught.value.message


def test_partial_reading_drops_only_the_parts_of_the_wrong_shape(sample: dict[str, Any]) -> None:
    broken = copy.deepcopy(sample)
    broken["findings"][1]["facts"] = "not an object"
    broken["options"].insert(0, 7)
    broken["actions"] = "not a list"
    model = load_decision("d", broken, partial=True)
    assert [f.rule for f in model.findings] == [f["rule"] for f in sample["findings"]]
    assert model.findings[1].facts == {} and model.findings[0].facts  # only the bad field went
    assert len(model.options) == len(sample["options"])
    assert model.actions == [] and model.verdict == sample["verdict"]
    assert load_decision("d", {}, partial=True).findings == []
    with pytest.raises(InputError):  # a foreign schema is refused even when reading partially
        load_decision("d", {"schema": "something-else/1"}, partial=True)


def test_the_schema_id_is_written_once() -> None:
    """Code spells the id only in engine/model/decision.py (help texts may mention it)."""
    quoted = re.compile(r"""["']mladvisor\.decision/""")
    found = [str(p.relative_to(ROOT)) for p in (ROOT / "engine").rglob("*.py")
             if quoted.search(p.read_text(encoding="utf-8"))]
    assert found == ["engine/model/decision.py"]


def test_the_exported_schema_keeps_the_contract_required_fields() -> None:
    schema = Decision.model_json_schema(by_alias=True)
    assert schema["required"][:3] == ["schema", "assessment_id", "verdict"]
    assert "input_sha256" in schema["required"]
    assert schema["properties"]["schema"]["const"] == DECISION_SCHEMA


@pytest.mark.parametrize("value, plain, grouped", [
    (None, "(not given)", "(not given)"),
    (True, "yes", "yes"),
    (False, "no", "no"),
    (12000, "12000", "12,000"),
    (0.85, "0.85", "0.85"),
    (2500.0, "2500", "2,500"),
    ("text", "text", "text"),
    (["a", "b"], "[a, b]", "[a, b]"),
    ([], "(none)", "(none)"),
    ([{"metric": "f1", "threshold": 0.8}], "[metric=f1 threshold=0.8]",
     "[metric=f1 threshold=0.8]"),
])
def test_show_value(value: Any, plain: str, grouped: str) -> None:
    assert show_value(value) == plain
    assert show_value(value, grouped=True) == grouped


def test_strategy_text_takes_the_model_the_document_or_none() -> None:
    model = Strategy(rung="hosted-custom", service="svc", summary="s")
    assert strategy_text(model) == "hosted-custom (svc)"
    assert strategy_text({"rung": "no-ml", "service": None}, " / {}") == "no-ml"
    assert strategy_text(model.model_dump(), " on {}") == "hosted-custom on svc"
    assert strategy_text(None) == "(none)" and strategy_text({}, none="-") == "-"


def test_why_not_reads_expected_values_like_actual_ones() -> None:
    """A boolean condition reads 'is no, needs yes', never 'is no, needs = true'."""
    from engine.explain.text import render_text
    from engine.explain.why import explain

    assessment = assess_files(EXAMPLES / "churn-idea.yaml")
    text = render_text(assessment.model, explain(assessment, limit=1))
    assert "is no, needs yes" in text
    assert not re.search(r"needs = |needs [^;\n]*\b(true|false|null)\b", text)
