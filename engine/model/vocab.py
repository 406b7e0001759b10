"""The closed vocabularies of the answers, the knowledge files and the decision, in one place.

Each is a `Literal` type (so pydantic validates it and the JSON Schema lists it) and a tuple of
its values derived from that type, never restated. The values are domain data: knowledge/ and
rules/ are validated against them at load time (engine/rulebase/knowledge.py checks that
ladder.yaml lists the rungs in this order and every verdict and severity), so a new rung or
task is added here and there together. The order of each tuple is meaningful: lifecycle order
for phases, simplest first for rungs, most severe first for severities.
"""

from __future__ import annotations

from typing import Literal, get_args

Phase = Literal[
    "business-goal",
    "data",
    "solution-evaluation",
    "model-selection",
    "training",
    "deployment",
    "monitoring",
]
Rung = Literal["no-ml", "pre-built", "hosted-custom", "pre-trained", "from-scratch"]
Verdict = Literal["proceed", "proceed-with-conditions", "not-ready", "ml-not-recommended"]
# The verdicts that say "do not go ahead" (the meaning of the words, not a tunable rule):
# `assess --fail-on-blocker` exits 1 on these.
BLOCKING_VERDICTS: tuple[Verdict, ...] = ("not-ready", "ml-not-recommended")

# Who a report is written for: the same decision, the same hashes and attachment, shown at
# three depths (the sponsor's page, the architect's review, the auditor's full trace).
Audience = Literal["executive", "architect", "audit"]
DEFAULT_AUDIENCE: Audience = "architect"
Severity = Literal["blocker", "warning", "recommendation", "info"]
Task = Literal[
    "sentiment-analysis",
    "text-classification",
    "entity-extraction",
    "document-extraction",
    "translation",
    "speech-to-text",
    "text-to-speech",
    "text-generation",
    "summarization",
    "question-answering",
    "conversational-agent",
    "image-classification",
    "object-detection",
    "recommendation",
    "forecasting",
    "tabular-classification",
    "tabular-regression",
    "anomaly-detection",
    "record-matching",
    "other",
]
# The sector (industry) a project serves: offers purpose-built for a sector (knowledge/services.yaml
# `sectors`) are candidates only for projects in it. `general` (cross-industry, or no sector
# worth naming) and `other` (a sector not listed) name no particular sector: no offer lists them.
Sector = Literal[
    "general",
    "healthcare",
    "life-sciences",
    "financial-services",
    "industrial",
    "energy-utilities",
    "public-sector",
    "retail-ecommerce",
    "media",
    "telecom",
    "transport-logistics",
    "legal",
    "education",
    "other",
]
UNSPECIFIC_SECTORS: tuple[Sector, ...] = ("general", "other")
# How an offer stands to the project's sector (an offer fact, `sector_fit`): purpose-built for
# it, serving every sector, or purpose-built for sectors the project is not in.
SectorFit = Literal["purpose-built", "general-purpose", "other-sector"]
# What the team actually does with an offer (documented in knowledge/ladder.yaml `methods`).
Method = Literal[
    "rule",
    "api",
    "prompting",
    "rag",
    "custom-vocabulary",
    "custom-terminology",
    "intent-bot",
    "automl",
    "fine-tune",
    "self-hosted",
    "custom-training",
]
# Where the model runs and who operates it (documented in knowledge/ladder.yaml `runs`).
Runs = Literal["provider-api", "customer-endpoint", "edge-device", "own-hardware"]
Goal = Literal["at-least", "at-most"]  # a success criterion's direction
# What became of an option on the ladder, in the order a reader scans them.
Status = Literal["selected", "eligible", "rejected", "not-evaluated"]

PHASES: tuple[str, ...] = get_args(Phase)
RUNGS: tuple[str, ...] = get_args(Rung)
VERDICTS: tuple[str, ...] = get_args(Verdict)
SEVERITIES: tuple[str, ...] = get_args(Severity)
TASKS: tuple[str, ...] = get_args(Task)
SECTORS: tuple[str, ...] = get_args(Sector)
SECTOR_FITS: tuple[str, ...] = get_args(SectorFit)
METHODS: tuple[str, ...] = get_args(Method)
RUNS: tuple[str, ...] = get_args(Runs)
GOALS: tuple[str, ...] = get_args(Goal)
STATUSES: tuple[str, ...] = get_args(Status)
AUDIENCES: tuple[str, ...] = get_args(Audience)

# Who a team account is (engine/team/roles.py says what each may do) and the actions pages and
# commands name when they ask whether a role may act.
Role = Literal["stakeholder", "architect", "compliance", "admin"]
Action = Literal["assess", "upload-evidence", "view", "review", "verify-log", "export-log",
                 "replay", "manage-users"]
ROLES: tuple[str, ...] = get_args(Role)
ACTIONS: tuple[str, ...] = get_args(Action)

# What an architect records on an assessment (`mladvisor review`): a verdict of the review
# (approve, request-changes) or a remark that leaves the review state as it was (comment).
ReviewAction = Literal["approve", "request-changes", "comment"]
REVIEW_ACTIONS: tuple[str, ...] = get_args(ReviewAction)
# Where a project's review stands (its latest assessment against the reviews of its
# assessments), in the order a reviewer's queue reads them: most in need of an architect first.
ReviewState = Literal["changes-requested", "re-assessed", "not-reviewed", "commented",
                      "approved"]
REVIEW_STATES: tuple[str, ...] = get_args(ReviewState)
REVIEW_STATE_LABELS: dict[str, str] = {
    "changes-requested": "changes requested",
    "re-assessed": "re-assessed, awaiting review",
    "not-reviewed": "not reviewed",
    "commented": "commented, not decided",
    "approved": "approved",
}
# The role recorded for a reviewer when no account exists at all (single-user local mode:
# whoever runs mladvisor on this machine is every role, as `mladvisor serve` treats them).
LOCAL_REVIEWER_ROLE = "architect"
