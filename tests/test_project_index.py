"""A long-lived process finds a project's assessments through an index that reads only what
was appended since its last look (engine.projects.index): the same milestones as reading the
whole log, on either store, after assessments and reviews of other projects are appended."""

from __future__ import annotations

import copy

from engine.audit import open_log
from engine.projects.history import history, projects
from engine.projects.index import ProjectIndex
from tests.audit_standin import make_assessment


def _of_project(n: int, project_id: str) -> object:
    """A recorded assessment of the project `project_id` (its answers name it)."""
    assessment = make_assessment(n)
    assessment.input_doc = copy.deepcopy(assessment.input_doc)
    assessment.input_doc["answers"]["project"]["id"] = project_id
    return assessment


def _ids(found: dict[str, tuple[str, list]], pid: str) -> list[str]:
    return [m.record_id for m in found.get(pid, ("", []))[1]]


def test_the_index_finds_what_a_full_read_finds_and_catches_up(backend: str) -> None:
    index = ProjectIndex()
    with open_log() as log:
        for n, pid in enumerate(["alpha", "beta", "alpha", "gamma"]):
            log.append(_of_project(n, pid))  # type: ignore[arg-type]
        assert _ids(projects(log, only="alpha", index=index), "alpha") == \
            _ids(projects(log, only="alpha"), "alpha")
        assert len(_ids(projects(log, only="alpha", index=index), "alpha")) == 2
        first = _ids(projects(log, only="alpha"), "alpha")[0]
        log.append_review(first, {"action": "comment", "user": "ann", "role": "architect",
                                  "comment": "looked", "account": False})
        later = log.append(_of_project(9, "alpha"))  # type: ignore[arg-type]
        log.append(_of_project(10, "beta"))  # type: ignore[arg-type]
        found = projects(log, only="alpha", index=index)
        assert _ids(found, "alpha") == _ids(projects(log, only="alpha"), "alpha")
        assert _ids(found, "alpha")[-1] == later
        assert _ids(projects(log, only="nothing", index=index), "nothing") == []
        assert [m.record_id for m in history(log, "alpha", index).milestones] == \
            _ids(found, "alpha")
