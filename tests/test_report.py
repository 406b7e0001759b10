"""The HTML and PDF report: content, order, reproducibility, PDF structure, missing fields."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine.errors import InputError
from engine.report import render_html, render_pdf
from engine.report.pdf import canonical_json

FIXTURES = Path(__file__).parent / "fixtures" / "report"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"decision-{name}.json").read_text(encoding="utf-8"))


def pdf_text(reader: PdfReader) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture(scope="module")
def sample() -> dict:
    return load("sample")


@pytest.fixture(scope="module")
def sample_html(sample: dict) -> str:
    return render_html(sample).decode("utf-8")


@pytest.fixture(scope="module")
def sample_pdf(sample: dict) -> bytes:
    return render_pdf(sample)


@pytest.fixture(scope="module")
def reader(sample_pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(sample_pdf))


# ---- HTML ---------------------------------------------------------------------------------

def test_html_is_self_contained(sample_html: str) -> None:
    assert sample_html.startswith("<!DOCTYPE html>")
    assert "<style>" in sample_html and "<svg" in sample_html
    # no external reference of any kind: no src/href other than in-page anchors
    assert not re.search(r'\b(?:src|href)="(?!#)', sample_html)
    assert "<link" not in sample_html and "<script" not in sample_html
    assert "default-src 'none'" in sample_html


def test_html_sections_in_the_order_of_the_issue(sample_html: str) -> None:
    ids = ["summary", "ladder", "charts", "what-would-change", "findings", "answers",
           "monitoring", "appendix"]
    positions = [sample_html.index(f'id="{i}"') for i in ids]
    assert positions == sorted(positions)


def test_summary_has_project_respondent_date_verdict_strategy(sample: dict,
                                                              sample_html: str) -> None:
    summary = sample_html[:sample_html.index('id="ladder"')]
    assert "Support ticket routing" in summary
    assert "Dana Lee, Support Ops" in summary
    assert "20 November 2026, 09:30 UTC" in summary  # from the UUIDv7 assessment id
    assert 'class="badge verdict--proceed-with-conditions">Proceed with conditions' in summary
    assert "Amazon Comprehend custom classifier" in summary
    assert summary.count('<ol class="actions">') == 1
    top = summary[summary.index('<ol class="actions">'):]
    top = top[:top.index("</ol>")]
    assert top.count("<li>") == 3
    assert sample["actions"][0] in top


def test_every_option_and_check_is_in_the_ladder(sample: dict, sample_html: str) -> None:
    ladder = sample_html[sample_html.index('id="ladder"'):sample_html.index('id="charts"')]
    assert ladder.count('<article class="option') == len(sample["options"])
    checks = sum(len(e["checks"]) for o in sample["options"] for e in o["evidence"])
    assert ladder.count("result--met") + ladder.count("result--miss") == checks
    assert ladder.count("result--miss") == sum(
        1 for o in sample["options"] for e in o["evidence"] for c in e["checks"] if not c["met"])
    assert "Not evaluated" in ladder and "Selected" in ladder


def test_charts_are_inline_svg_without_dates_or_comments(sample_html: str) -> None:
    charts = sample_html[sample_html.index('id="charts"'):sample_html.index('id="findings"')]
    assert charts.count("<svg") == 3  # criteria, cost, drift
    assert "<!--" not in charts and "dc:date" not in charts


def test_findings_grouped_by_phase_blockers_first() -> None:
    large = load("large")
    html = render_html(large).decode("utf-8")
    section = html[html.index('id="findings"'):html.index('id="answers"')]
    phases = re.findall(r'<section class="phase" id="phase-([a-z-]+)">', section)
    lifecycle = ["business-goal", "data", "solution-evaluation", "model-selection", "training",
                 "deployment", "monitoring"]
    assert phases == [p for p in lifecycle if any(f["phase"] == p for f in large["findings"])]
    rank = {"blocker": 0, "warning": 1, "recommendation": 2, "info": 3}
    for chunk in section.split('<section class="phase"')[1:]:
        severities = re.findall(r'<span class="sev sev--([a-z]+)">', chunk)
        assert [rank[s] for s in severities] == sorted(rank[s] for s in severities)
    assert section.count('<article class="finding') == 30


def test_defaulted_answers_are_marked(sample: dict, sample_html: str) -> None:
    answers = sample_html[sample_html.index('id="answers"'):sample_html.index('id="monitoring"')]
    answers = answers.replace("\u200b", "")  # identifiers' break points
    assert answers.count('<tr class="defaulted">') == len(sample["input"]["defaulted"])
    row = answers[answers.index("explainability_required"):]
    assert row.index("default-tag") < row.index("</tr>")


def test_counterfactuals_render_only_when_present(sample: dict, sample_html: str) -> None:
    assert "What would change this recommendation" in sample_html
    assert "business.success_criteria[0].threshold" in sample_html.replace("\u200b", "")
    plain = copy.deepcopy(sample)
    del plain["explanation"]
    assert "What would change" not in render_html(plain).decode("utf-8")
    top_level = copy.deepcopy(plain)
    top_level["counterfactuals"] = [{"changes": {"data.labeled_examples": 5000},
                                     "verdict": "proceed", "strategy": None}]
    assert "data.labeled_examples" in render_html(top_level).decode("utf-8").replace("\u200b", "")


def test_appendix_has_trace_and_audit_block(sample: dict, sample_html: str) -> None:
    appendix = sample_html[sample_html.index('id="appendix"'):]
    for value in (sample["assessment_id"], sample["rulebase"]["version"],
                  sample["rulebase"]["sha256"], sample["input_sha256"]):
        assert value in appendix
    assert appendix.count("<tr><td class=\"num\">") == len(sample["trace"])


def test_html_is_byte_identical_run_after_run(sample: dict, sample_html: str) -> None:
    assert render_html(copy.deepcopy(sample)).decode("utf-8") == sample_html


# ---- missing and malformed fields -------------------------------------------------------

MINIMAL = {"schema": "mladvisor.decision/1", "verdict": "not-ready"}


@pytest.mark.parametrize("decision", [
    MINIMAL,
    {},
    {"schema": "mladvisor.decision/1", "assessment_id": "not-a-uuid", "verdict": "odd-verdict",
     "strategy": "x", "findings": "x", "options": [1, None, {"evidence": "x"}],
     "trace": {"a": 1}, "input": {"answers": [], "drift": {"features": [{"statistic": "x"}]}},
     "monitoring_plan": [None], "actions": "x", "project": None},
    {"schema": "mladvisor.decision/1", "verdict": "proceed", "strategy": {"rung": "r"},
     "options": [{"rung": "r", "status": "selected", "evidence": [{"candidate": "c", "checks": [
         {"metric": "m", "value": None, "threshold": 1, "goal": "at-least"}]}]}],
     "input": {"answers": {"business": {"expected_value_usd_per_month": 10}},
               "benchmarks": [{"candidate": "c", "rung": "r"}]}},
], ids=["minimal", "empty", "wrong-types", "sparse"])
def test_missing_or_odd_fields_render_gracefully(decision: dict) -> None:
    html = render_html(decision).decode("utf-8")
    assert "Untitled project" in html or "<h1" in html
    assert "date unknown" in html
    pdf = PdfReader(io.BytesIO(render_pdf(decision)))
    assert len(pdf.pages) >= 1
    assert "Untitled project" in pdf_text(pdf)


@pytest.mark.parametrize("bad", [[], "text", None, {"schema": "something-else/1"}])
def test_not_a_decision_is_an_input_error(bad: object) -> None:
    with pytest.raises(InputError):
        render_html(bad)  # type: ignore[arg-type]


# ---- PDF ----------------------------------------------------------------------------------

def test_pdf_text_has_project_verdict_and_strategy(reader: PdfReader) -> None:
    text = pdf_text(reader)
    assert "Support ticket routing" in text
    assert "Proceed with conditions" in text
    assert "hosted-custom" in text and "amazon-comprehend" in text
    first = " ".join((reader.pages[0].extract_text() or "").split())
    assert f"Page 1 of {len(reader.pages)}" in first


def test_pdf_running_header_and_toc_page_numbers(reader: PdfReader) -> None:
    second = " ".join((reader.pages[1].extract_text() or "").split())
    assert "Support ticket routing 20 November 2026, 09:30 UTC" in second  # running header
    assert "Support ticket routing 20 November" not in " ".join(
        (reader.pages[0].extract_text() or "").split())  # none on the title page
    first = " ".join((reader.pages[0].extract_text() or "").split())
    match = re.search(r"The ladder[ .]*?(\d+)", first)
    assert match and int(match.group(1)) == 2
    appendix = re.search(r"Appendix: trace and audit[ .]*?(\d+)", first)
    plan = re.search(r"Monitoring plan[ .]*?(\d+)", first)
    assert appendix and plan and int(plan.group(1)) <= int(appendix.group(1)) <= len(reader.pages)
    last = " ".join((reader.pages[-1].extract_text() or "").split())
    assert "Decision trace" in last or "Appendix: trace and audit" in last or "RULE" in last


def test_pdf_metadata(reader: PdfReader, sample: dict) -> None:
    meta = reader.metadata
    assert meta.title == "ML assessment: Support ticket routing"
    assert meta.author == sample["project"]["respondent"]
    assert meta.subject.startswith("Proceed with conditions")
    keywords = meta.get("/Keywords", "")
    assert "hosted-custom" in keywords and "text-classification" in keywords
    assert meta.get("/CreationDate", "").startswith("D:20261120093015")


def test_pdf_is_pdfa3u_tagged_with_outline_and_page_labels(reader: PdfReader) -> None:
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "pdfaid:conformance" in xmp and ("U" in xmp)
    assert root["/MarkInfo"]["/Marked"] is True or root["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert "/StructTreeRoot" in root
    assert "/PageLabels" in root
    (filespec,) = [ref.get_object() for ref in root["/AF"]]  # associated once, as its source
    assert filespec["/UF"] == "decision.json" and filespec["/AFRelationship"] == "/Source"
    assert reader.page_labels[:3] == ["1", "2", "3"]
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    for expected in ("The ladder", "Charts", "Findings by phase", "The answers",
                     "Monitoring plan", "Appendix: trace and audit"):
        assert expected in titles


def test_pdf_attachment_is_the_decision_json(reader: PdfReader, sample: dict) -> None:
    attachments = reader.attachments
    assert list(attachments) == ["decision.json"]
    (data,) = attachments["decision.json"]
    assert data == canonical_json(sample)
    decision_only = {k: v for k, v in sample.items() if k != "explanation"}
    assert json.loads(data) == decision_only  # the explanation is shown, not attached
    assert data.endswith(b"}\n")


def test_attachment_bytes_match_assess_json_output(sample: dict) -> None:
    import engine.util.canonical as canonical
    decision_only = {k: v for k, v in sample.items() if k != "explanation"}
    assert canonical_json(sample) == canonical.pretty_bytes(decision_only)


@pytest.mark.slow
def test_pdf_is_byte_identical_run_after_run(sample: dict, sample_pdf: bytes) -> None:
    assert render_pdf(copy.deepcopy(sample)) == sample_pdf


@pytest.mark.slow
def test_pdf_is_byte_identical_in_another_process(sample_pdf: bytes) -> None:
    code = ("import json, sys, hashlib; from engine.report import render_pdf; "
            f"d = json.load(open({str(FIXTURES / 'decision-sample.json')!r})); "
            "print(hashlib.sha256(render_pdf(d)).hexdigest())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=300)
    assert result.stdout.strip() == hashlib.sha256(sample_pdf).hexdigest()


@pytest.mark.slow
def test_different_decisions_give_different_pdfs(sample: dict, sample_pdf: bytes) -> None:
    other = copy.deepcopy(sample)
    other["verdict"] = "not-ready"
    assert render_pdf(other) != sample_pdf


@pytest.mark.slow
def test_large_report_renders_and_stays_readable() -> None:
    large = load("large")
    reader = PdfReader(io.BytesIO(render_pdf(large)))
    text = pdf_text(reader)
    assert 8 <= len(reader.pages) <= 30
    assert "Not ready" in text and "and 6 more under Findings" in text
    # the long project name is shown in full on page 1
    assert "insurance portfolio" in " ".join((reader.pages[0].extract_text() or "").split())


@pytest.mark.slow
def test_summary_stays_on_page_one_with_extreme_text() -> None:
    large = load("large")
    huge = "Claims " * 400
    large["project"]["name"] = huge
    large["actions"] = [huge] * 5
    for finding in large["findings"]:
        finding["title"] = huge
    large["strategy"] = {"rung": "r", "service": "s", "summary": huge}
    reader = PdfReader(io.BytesIO(render_pdf(large)))
    first = " ".join((reader.pages[0].extract_text() or "").split())
    second = " ".join((reader.pages[1].extract_text() or "").split())
    assert "Contents" in first and "Appendix: trace and audit" in first
    assert second.startswith("The ladder") or "The ladder Every rung" in second


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_text_colours_meet_wcag_aa_contrast() -> None:
    from engine.report.html import templates_dir

    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    palette = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    palette["white"] = "#ffffff"
    pairs = [("ink", "white"), ("muted", "white"), ("muted", "soft"), ("green", "white"),
             ("white", "green"), ("white", "amber"), ("white", "red"), ("white", "grey"),
             ("amber", "amber-bg"), ("red", "red-bg"), ("green", "green-bg"),
             ("blue", "blue-bg"), ("grey", "grey-bg"), ("blue", "white"), ("red", "white")]
    for fg, bg in pairs:
        light, dark = sorted((_luminance(palette[fg]), _luminance(palette[bg])), reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"


def test_importing_the_report_command_stays_light() -> None:
    code = ("import sys, engine.cli.report, engine.report; "
            "heavy = {'weasyprint', 'matplotlib', 'jinja2', 'pypdf'} & set(sys.modules); "
            "print(sorted(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "[]"


def test_html_is_byte_identical_in_another_process(sample_html: str) -> None:
    code = ("import json, hashlib; from engine.report import render_html; "
            f"d = json.load(open({str(FIXTURES / 'decision-sample.json')!r})); "
            "print(hashlib.sha256(render_html(d)).hexdigest())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=300)
    assert result.stdout.strip() == hashlib.sha256(sample_html.encode("utf-8")).hexdigest()


@pytest.mark.slow
def test_threads_render_the_same_bytes(sample: dict, sample_pdf: bytes) -> None:
    """The web server may render from threads: the output must not depend on it."""
    from concurrent.futures import ThreadPoolExecutor

    minimal_alone = render_pdf(MINIMAL)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(render_pdf, [sample, MINIMAL, sample]))
    assert results == [sample_pdf, minimal_alone, sample_pdf]


def test_no_invented_date_without_an_assessment_id() -> None:
    reader = PdfReader(io.BytesIO(render_pdf(MINIMAL)))
    assert "/CreationDate" not in reader.metadata
    assert "date unknown" in pdf_text(reader)


def test_rung_and_service_names_come_from_knowledge(sample: dict, sample_html: str) -> None:
    from engine.report.labels import labels

    names = labels()
    assert names["rungs"], "knowledge/ladder.yaml gave no rung titles"
    ladder = sample_html[sample_html.index('id="ladder"'):sample_html.index('id="charts"')]
    assert names["rungs"]["hosted-custom"]["title"] in ladder
    assert names["services"]["amazon-comprehend"]["name"] in ladder
    assert 'class="legend"' in ladder


def test_renders_with_ids_only_without_knowledge(sample: dict, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.report import labels as labels_module

    monkeypatch.setattr(labels_module, "labels", lambda: {"rungs": {}, "services": {}})
    html = render_html(sample).decode("utf-8")
    assert 'class="legend"' not in html
    assert '<td>amazon-bedrock</td>' in html  # the id stands in for the name


def test_cycle_collector_pauses_during_a_render_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector is off while the page is built and laid out, back on afterwards, even
    when the render fails, and left off when the caller had turned it off."""
    import gc

    import engine.report.html as html_module
    from engine.report.fetcher import SafeFetcher
    from engine.report.html import templates_dir
    from engine.report.pdf import html_to_pdf

    seen: list[bool] = []

    class Watching(SafeFetcher):
        def fetch(self, url: str, headers: object = None):  # type: ignore[no-untyped-def]
            seen.append(gc.isenabled())
            return super().fetch(url, headers)

    pixel = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' "
             "height='1'/%3E")
    page = f'<p>x</p><img src="{pixel}">'
    metadata = {"title": "t", "subject": "s", "keywords": []}
    assert gc.isenabled()
    html_to_pdf(page, metadata=metadata, attachment=b"{}\n",
                fetcher=Watching(templates_dir() / "assets"))
    assert seen == [False] and gc.isenabled()
    with pytest.raises(KeyError):
        html_to_pdf(page, metadata={}, attachment=b"{}\n")  # no title: fails after layout
    assert gc.isenabled()
    gc.disable()
    try:
        html_to_pdf(page, metadata=metadata, attachment=b"{}\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
    building = html_module.render_document

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return building(*args, **kwargs)

    monkeypatch.setattr(html_module, "render_document", watched)
    render_pdf(MINIMAL)
    assert seen == [False, False] and gc.isenabled()
