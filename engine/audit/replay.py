"""Replay: re-run recorded inputs with the recorded rule base (must give the recorded decision)
and with the current one (what a rule change would change, and which rules explain it).

The recorded rule base is loaded straight from the content-addressed files in the log
(`engine.rulebase.loading.load_rulebase_files`, nothing written to disk); its fingerprint must
equal the one recorded. Each distinct rule base is loaded (and compiled by the engine) once per
process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.audit.canonical import canonical_json
from engine.errors import AuditError, MladvisorError, RuleBaseError

if TYPE_CHECKING:
    from engine.audit.record import AuditRecord
    from engine.audit.store import AuditLog
    from engine.model.decision import Decision

_LOADED: dict[str, Any] = {}  # files_sha256 -> RuleBase


def recorded_rulebase(log: AuditLog, record: AuditRecord) -> Any:
    """The RuleBase a record was decided with, rebuilt from the log."""
    from engine.rulebase.loading import default_rulebase, load_rulebase_files

    ref = record.rulebase
    files_sha = ref.files_sha256 if ref else None
    if ref is None or not files_sha:
        raise AuditError(f"record {record.seq} ({record.record_id}) names no stored rule base")
    if files_sha in _LOADED:
        return _LOADED[files_sha]
    files = log.rulebase_files(files_sha)
    try:
        current = default_rulebase()
    except MladvisorError:
        current = None  # a broken current rule base must not stop replays of recorded ones
    if current is not None and current.sha256 == ref.sha256 and files == current.files:
        _LOADED[files_sha] = current  # the same files: reuse the compiled current rules
        return current
    rb = load_rulebase_files(files)
    if ref.sha256 and rb.sha256 != ref.sha256:
        raise AuditError(f"record {record.seq} ({record.record_id}): the stored"
                         f" rule base files give fingerprint {rb.sha256[:12]}, the record says"
                         f" {ref.sha256[:12]}")
    _LOADED[files_sha] = rb
    return rb


# Not part of what was decided: the id is the record's, the engine version is reported apart.
_NOT_COMPARED = {"assessment_id", "engine_version"}


def _differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    keys = sorted(set(before) | set(after))
    return [k for k in keys if k not in _NOT_COMPARED and canonical_json(before.get(k))
            != canonical_json(after.get(k))]


def _fired(decision: Decision) -> set[str]:
    return {str(step.rule) for step in decision.trace}


def _rule_changes(old_rb: Any, new_rb: Any) -> dict[str, str]:
    """rule id -> added | removed | modified | deprecated, between two rule bases."""
    def dump(rb: Any) -> dict[str, Any]:
        return {r.id: r.model_dump(mode="json") for r in rb.rules}

    old, new = dump(old_rb), dump(new_rb)
    changes: dict[str, str] = {}
    for rule_id in sorted(set(old) | set(new)):
        if rule_id not in old:
            changes[rule_id] = "added"
        elif rule_id not in new:
            changes[rule_id] = "removed"
        elif old[rule_id] != new[rule_id]:
            if new[rule_id].get("status") == "deprecated" != old[rule_id].get("status"):
                changes[rule_id] = "deprecated"
            else:
                changes[rule_id] = "modified"
    return changes


def _why(rule_id: str, rule_changes: dict[str, str], roots: list[str]) -> str:
    change = rule_changes.get(rule_id)
    if change:
        return f"rule {rule_id} was {change} in the current rule base"
    if roots:
        return f"rule {rule_id} is unchanged; it follows from " + ", ".join(roots)
    return f"rule {rule_id} is unchanged; the engine or the input's reading changed"


def compare(old: dict[str, Any], new: dict[str, Any], old_rb: Any, new_rb: Any
            ) -> list[dict[str, Any]]:
    """What would change from the recorded decision to the current one, and why."""
    why = _Why.between(old, new, old_rb, new_rb)
    changes: list[dict[str, Any]] = []
    if old.get("verdict") != new.get("verdict"):
        changes.append({"what": "verdict", "from": old.get("verdict"), "to": new.get("verdict"),
                        "why": why.causes})
    changes += _strategy_change(old, new, why.causes)
    changes += _finding_changes(old, new, why)
    changes += _option_changes(old, new)
    covered = {"assessment_id", "verdict", "strategy", "findings", "options", "trace",
               "rulebase", "engine_version"}
    other = [k for k in sorted(set(old) | set(new)) if k not in covered
             and canonical_json(old.get(k)) != canonical_json(new.get(k))]
    if other:
        changes.append({"what": "other", "fields": other, "why": why.causes})
    return changes


class _Why:
    """The reasons a change can be given: rules changed between the rule bases, changed
    knowledge, and the rules that fire in one decision but not the other."""

    def __init__(self, rule_changes: dict[str, str], roots: list[str], causes: list[str]
                 ) -> None:
        self.rule_changes = rule_changes
        self.roots = roots
        self.causes = causes

    @classmethod
    def between(cls, old: dict[str, Any], new: dict[str, Any], old_rb: Any, new_rb: Any
                ) -> _Why:
        rule_changes = _rule_changes(old_rb, new_rb)
        knowledge_changed = sorted(
            p for p in set(old_rb.files) | set(new_rb.files)
            if p.startswith("knowledge/") and old_rb.files.get(p) != new_rb.files.get(p))
        from engine.model.decision import load_decision

        # typed views of what fired; an edited record reads partially, never raises
        fired_old = _fired(load_decision("recorded decision", old, partial=True))
        fired_new = _fired(load_decision("replayed decision", new, partial=True))
        roots = [f"{r} ({rule_changes[r]})" for r in sorted((fired_old | fired_new)
                                                            & set(rule_changes))]
        if knowledge_changed:
            roots.append("changed knowledge (" + ", ".join(knowledge_changed) + ")")
        causes = [_why(r, rule_changes, roots) + ("; it no longer fires" if r in fired_old
                                                  else "; it now fires")
                  for r in sorted(fired_old ^ fired_new)]
        causes += [_why(r, rule_changes, roots) for r in sorted(fired_old & fired_new)
                   if r in rule_changes]
        return cls(rule_changes, roots, causes)

    def of(self, rule_id: str) -> list[str]:
        return [_why(rule_id, self.rule_changes, self.roots)]


def _strat(decision: dict[str, Any]) -> dict[str, Any] | None:
    s = decision.get("strategy")
    return {"rung": s.get("rung"), "service": s.get("service")} if isinstance(s, dict) else None


def _strategy_change(old: dict[str, Any], new: dict[str, Any], causes: list[str]
                     ) -> list[dict[str, Any]]:
    from engine.util.display import strategy_text

    before, after = _strat(old), _strat(new)
    if before == after:
        return []
    reasons: list[str] = []
    for option in new.get("options") or []:
        if before and option.get("rung") == before["rung"] \
                and option.get("service") == before["service"]:
            reasons = [f"{strategy_text(before, '/{}')} is now {option.get('status')}"]
            reasons += [str(r) for r in option.get("reasons") or []]
    return [{"what": "strategy", "from": before, "to": after, "why": reasons + causes}]


def _findings(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for f in decision.get("findings") or [] if isinstance(f, dict)}


def _finding_changes(old: dict[str, Any], new: dict[str, Any], why: _Why
                     ) -> list[dict[str, Any]]:
    old_findings, new_findings = _findings(old), _findings(new)
    changes: list[dict[str, Any]] = []
    for what, present, absent in (("finding added", new_findings, old_findings),
                                  ("finding removed", old_findings, new_findings)):
        for rule_id in sorted(set(present) - set(absent)):
            changes.append({"what": what, "rule": rule_id,
                            "severity": present[rule_id].get("severity"),
                            "title": present[rule_id].get("title"), "why": why.of(rule_id)})
    for rule_id in sorted(set(old_findings) & set(new_findings)):
        change = _finding_change(old_findings[rule_id], new_findings[rule_id])
        if change:
            changes.append({**change, "rule": rule_id, "why": why.of(rule_id)})
    return changes


def _finding_change(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any] | None:
    """How one finding present in both decisions changed: its severity, else its fields."""
    if a.get("severity") != b.get("severity"):
        return {"what": "finding severity", "from": a.get("severity"), "to": b.get("severity")}
    fields = [k for k in sorted(set(a) | set(b)) if k != "severity"
              and canonical_json(a.get(k)) != canonical_json(b.get(k))]
    return {"what": "finding changed", "fields": fields} if fields else None


def _option_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    old_opts = {(o.get("rung"), o.get("service")): o.get("status")
                for o in old.get("options") or []}
    new_opts = {(o.get("rung"), o.get("service")): o.get("status")
                for o in new.get("options") or []}
    return [{"what": "option", "rung": key[0], "service": key[1],
             "from": old_opts.get(key), "to": new_opts.get(key)}
            for key in sorted(set(old_opts) | set(new_opts), key=lambda k: (str(k[0]), str(k[1])))
            if old_opts.get(key) != new_opts.get(key)]


def replay_record(log: AuditLog, record: AuditRecord, current: bool = True
                  ) -> dict[str, Any]:
    """Re-run one assessment record; see the module docstring."""
    from engine.api import assess
    from engine.rulebase.loading import default_rulebase

    record_id = record.record_id
    recorded = record.decision
    rulebase = record.rulebase
    result: dict[str, Any] = {"record_id": record_id, "seq": record.seq,
                              "rulebase": rulebase.version if rulebase else None}
    shape = _shape_problem(record)
    doc = record.input
    if shape or recorded is None or rulebase is None or doc is None:
        result.update(reproduced=False, error=shape, differences=[])
        return result
    try:
        rb = recorded_rulebase(log, record)
    except RuleBaseError as error:  # a rule-base format this engine no longer reads
        result.update(reproduced=False, differences=[], error=(
            f"{error} (recorded with mladvisor {recorded.get('engine_version') or 'unknown'}; "
            "replay it with that version)"))
        return result
    except MladvisorError as error:
        result.update(reproduced=False, error=str(error), differences=[])
        return result
    try:
        again = assess(doc, rulebase=rb, assessment_id=record_id).decision
    except MladvisorError as error:
        result.update(reproduced=False, error=str(error), differences=[])
        return result
    except Exception as error:  # noqa: BLE001 - an edited record may reach any code path;
        # replaying it must still end in one line naming the record, never a traceback
        result.update(reproduced=False, differences=[],
                      error=f"cannot be replayed ({type(error).__name__}: {error})")
        return result
    differences = _differences(recorded, again)
    result.update(reproduced=not differences, differences=differences,
                  engine={"recorded": recorded.get("engine_version"),
                          "replayed": again.get("engine_version")})
    if current:
        try:
            now_rb = default_rulebase()
        except MladvisorError as error:
            result["current"] = {"rulebase": None, "error": f"current rule base: {error}"}
            return result
        try:
            now = assess(doc, rulebase=now_rb, assessment_id=record_id).decision
        except MladvisorError as error:
            result["current"] = {"rulebase": now_rb.version, "error": str(error)}
            return result
        except Exception as error:  # noqa: BLE001 - as above: a record, not our code, failed
            result["current"] = {"rulebase": now_rb.version,
                                 "error": f"cannot be run ({type(error).__name__}: {error})"}
            return result
        result["current"] = {
            "rulebase": now_rb.version, "rulebase_sha256": now_rb.sha256,
            "same_rulebase": now_rb.sha256 == rulebase.sha256,
            "unchanged": not _differences(again, now),
            "changes": compare(recorded, now, rb, now_rb),
        }
    return result


def _shape_problem(record: AuditRecord) -> str | None:
    """What makes a record unreplayable before anything runs (an edited body), or None."""
    for key, value in (("decision", record.decision), ("input", record.input),
                       ("rulebase", record.rulebase)):
        if value is None:
            return f"its {key} is not an object (edited?)"
    return None


def replay(log: AuditLog, record_ids: list[str] | None = None, current: bool = True
           ) -> list[dict[str, Any]]:
    """Replay the named assessments, or all of them (record_ids None)."""
    if record_ids is None:
        records = list(log.iter_records(kind="assessment"))
    else:
        records = [log.get(r) for r in record_ids]
    out = []
    for record in records:
        if record.kind != "assessment":
            from engine.errors import InputError

            raise InputError(str(log.path), "record_id", "the id of a recorded assessment",
                             record.record_id)
        out.append(replay_record(log, record, current))
    return out
