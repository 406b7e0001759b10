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
from engine.errors import AuditError, MladvisorError

if TYPE_CHECKING:
    from engine.audit.store import AuditLog
    from engine.model.decision import Decision

_LOADED: dict[str, Any] = {}  # files_sha256 -> RuleBase


def recorded_rulebase(log: AuditLog, record: dict[str, Any]) -> Any:
    """The RuleBase a record was decided with, rebuilt from the log."""
    from engine.rulebase.loading import default_rulebase, load_rulebase_files

    ref = record.get("rulebase") or {}
    files_sha = ref.get("files_sha256")
    if not files_sha:
        raise AuditError(f"record {record.get('seq')} ({record.get('record_id')}) names no"
                         " stored rule base")
    if files_sha in _LOADED:
        return _LOADED[files_sha]
    files = log.rulebase_files(files_sha)
    try:
        current = default_rulebase()
    except MladvisorError:
        current = None  # a broken current rule base must not stop replays of recorded ones
    if current is not None and current.sha256 == ref.get("sha256") and files == current.files:
        _LOADED[files_sha] = current  # the same files: reuse the compiled current rules
        return current
    rb = load_rulebase_files(files)
    if ref.get("sha256") and rb.sha256 != ref["sha256"]:
        raise AuditError(f"record {record.get('seq')} ({record.get('record_id')}): the stored"
                         f" rule base files give fingerprint {rb.sha256[:12]}, the record says"
                         f" {str(ref['sha256'])[:12]}")
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
    from engine.model.decision import load_decision
    from engine.util.display import strategy_text

    # typed views for what is read by name; an edited record reads partially, never raises
    old_model = load_decision("recorded decision", old, partial=True)
    new_model = load_decision("replayed decision", new, partial=True)
    rule_changes = _rule_changes(old_rb, new_rb)
    knowledge_changed = sorted(
        p for p in set(old_rb.files) | set(new_rb.files)
        if p.startswith("knowledge/") and old_rb.files.get(p) != new_rb.files.get(p))
    fired_old, fired_new = _fired(old_model), _fired(new_model)
    roots = [f"{r} ({rule_changes[r]})" for r in sorted((fired_old | fired_new)
                                                        & set(rule_changes))]
    if knowledge_changed:
        roots.append("changed knowledge (" + ", ".join(knowledge_changed) + ")")
    causes = [_why(r, rule_changes, roots) + ("; it no longer fires" if r in fired_old
                                              else "; it now fires")
              for r in sorted(fired_old ^ fired_new)]
    causes += [_why(r, rule_changes, roots) for r in sorted(fired_old & fired_new)
               if r in rule_changes]
    changes: list[dict[str, Any]] = []
    if old.get("verdict") != new.get("verdict"):
        changes.append({"what": "verdict", "from": old.get("verdict"), "to": new.get("verdict"),
                        "why": causes})

    def strat(d: Decision) -> dict[str, Any] | None:
        s = d.strategy
        return None if s is None else {"rung": s.rung, "service": s.service}

    if strat(old_model) != strat(new_model):
        reasons: list[str] = []
        before = strat(old_model)
        for option in new_model.options:
            if before and option.rung == before["rung"] and option.service == before["service"]:
                reasons = [f"{strategy_text(before, '/{}')} is now {option.status}"]
                reasons += option.reasons
        changes.append({"what": "strategy", "from": before, "to": strat(new_model),
                        "why": reasons + causes})
    old_findings = {f["rule"]: f for f in old.get("findings") or [] if isinstance(f, dict)}
    new_findings = {f["rule"]: f for f in new.get("findings") or [] if isinstance(f, dict)}
    for rule_id in sorted(set(new_findings) - set(old_findings)):
        changes.append({"what": "finding added", "rule": rule_id,
                        "severity": new_findings[rule_id].get("severity"),
                        "title": new_findings[rule_id].get("title"),
                        "why": [_why(rule_id, rule_changes, roots)]})
    for rule_id in sorted(set(old_findings) - set(new_findings)):
        changes.append({"what": "finding removed", "rule": rule_id,
                        "severity": old_findings[rule_id].get("severity"),
                        "title": old_findings[rule_id].get("title"),
                        "why": [_why(rule_id, rule_changes, roots)]})
    for rule_id in sorted(set(old_findings) & set(new_findings)):
        a, b = old_findings[rule_id], new_findings[rule_id]
        if a.get("severity") != b.get("severity"):
            changes.append({"what": "finding severity", "rule": rule_id,
                            "from": a.get("severity"), "to": b.get("severity"),
                            "why": [_why(rule_id, rule_changes, roots)]})
            continue
        fields = [k for k in sorted(set(a) | set(b)) if k != "severity"
                  and canonical_json(a.get(k)) != canonical_json(b.get(k))]
        if fields:
            changes.append({"what": "finding changed", "rule": rule_id, "fields": fields,
                            "why": [_why(rule_id, rule_changes, roots)]})
    old_opts = {(o.get("rung"), o.get("service")): o.get("status")
                for o in old.get("options") or []}
    new_opts = {(o.get("rung"), o.get("service")): o.get("status")
                for o in new.get("options") or []}
    for key in sorted(set(old_opts) | set(new_opts), key=lambda k: (str(k[0]), str(k[1]))):
        if old_opts.get(key) != new_opts.get(key):
            changes.append({"what": "option", "rung": key[0], "service": key[1],
                            "from": old_opts.get(key), "to": new_opts.get(key)})
    covered = {"assessment_id", "verdict", "strategy", "findings", "options", "trace",
               "rulebase", "engine_version"}
    other = [k for k in sorted(set(old) | set(new)) if k not in covered
             and canonical_json(old.get(k)) != canonical_json(new.get(k))]
    if other:
        changes.append({"what": "other", "fields": other, "why": causes})
    return changes


def replay_record(log: AuditLog, record: dict[str, Any], current: bool = True
                  ) -> dict[str, Any]:
    """Re-run one assessment record; see the module docstring."""
    from engine.api import assess
    from engine.rulebase.loading import default_rulebase

    record_id = record["record_id"]
    recorded = record.get("decision")
    rulebase = record.get("rulebase")
    result: dict[str, Any] = {"record_id": record_id, "seq": record.get("seq"),
                              "rulebase": rulebase.get("version")
                              if isinstance(rulebase, dict) else None}
    shape = _shape_problem(record)
    if shape or not isinstance(recorded, dict):
        result.update(reproduced=False, error=shape, differences=[])
        return result
    try:
        rb = recorded_rulebase(log, record)
        again = assess(record["input"], rulebase=rb, assessment_id=record_id).decision
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
            now = assess(record["input"], rulebase=now_rb, assessment_id=record_id).decision
        except MladvisorError as error:
            result["current"] = {"rulebase": now_rb.version, "error": str(error)}
            return result
        except Exception as error:  # noqa: BLE001 - as above: a record, not our code, failed
            result["current"] = {"rulebase": now_rb.version,
                                 "error": f"cannot be run ({type(error).__name__}: {error})"}
            return result
        result["current"] = {
            "rulebase": now_rb.version, "rulebase_sha256": now_rb.sha256,
            "same_rulebase": now_rb.sha256 == (record.get("rulebase") or {}).get("sha256"),
            "unchanged": not _differences(again, now),
            "changes": compare(recorded, now, rb, now_rb),
        }
    return result


def _shape_problem(record: dict[str, Any]) -> str | None:
    """What makes a record unreplayable before anything runs (an edited body), or None."""
    for key in ("decision", "input", "rulebase"):
        if not isinstance(record.get(key), dict):
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
        if record.get("kind") != "assessment":
            from engine.errors import InputError

            raise InputError(str(log.path), "record_id", "the id of a recorded assessment",
                             record["record_id"])
        out.append(replay_record(log, record, current))
    return out
