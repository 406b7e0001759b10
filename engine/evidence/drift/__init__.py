"""Data drift, performance and bias of a deployed model, computed in chunks.

Per column, the test Evidently's DataDriftPreset picks by default, so verdicts are comparable
(stattests.py); the data set drifts when at least half of the tested columns do. Files are
streamed as record batches and never held whole (passes.py), and statistics come from counts
(columns.py, binning.py). Beside the verdicts: PSI (psi.py), a domain classifier
(multivariate.py), the model's metric (performance.py) and fairness checks (bias.py), put
together as the `mladvisor.drift/1` document (summary.py) and shown by render.py.
"""

from __future__ import annotations

from engine.evidence.drift.options import Options
from engine.evidence.drift.render import to_json, to_table
from engine.evidence.drift.summary import compute_drift

__all__ = ["Options", "compute_drift", "to_json", "to_table"]
