"""The `mladvisor.drift/1` document (CONTRACT section 4) as pydantic models.

`mladvisor drift` writes it and `assess --drift` validates with `DriftSummary`. Only pydantic is
imported here, so the loader stays light.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from engine.model.schemas import DRIFT_SCHEMA
from engine.util import limits

SCHEMA_ID = DRIFT_SCHEMA

# Strict types (an int is still accepted for a float), finite numbers, ranges and list sizes
# from engine/util/limits.py: the engine turns each feature and bias check into facts.
STRICT = ConfigDict(extra="forbid", validate_default=True, strict=True, allow_inf_nan=False)
Name = Annotated[str, StringConstraints(max_length=limits.MAX_NAME_CHARS)]
Share = Annotated[float, Field(ge=0, le=1)]
Value = Annotated[float, Field(ge=-limits.MAX_ABS_MEASURE, le=limits.MAX_ABS_MEASURE)]
Rows = Annotated[int, Field(ge=0, le=limits.MAX_ROWS)]


class _Strict(BaseModel):
    model_config = STRICT


class FeatureDrift(_Strict):
    name: Name = Field(description="Column name.")
    kind: Literal["numeric", "categorical"] = Field(description="How the column was treated.")
    method: Name = Field(description="Test as Evidently names it: ks, chisquare, z, wasserstein, "
                                    "jensenshannon; `missing` when one side has no values.")
    statistic: Value | None = Field(description="The test statistic or distance.")
    p_value: Share | None = Field(default=None, description="p-value, null for distances.")
    drifted: bool = Field(description="The test's verdict at its threshold.")
    threshold: Value | None = Field(default=None, description="Threshold the verdict used.")
    psi: Value | None = Field(default=None, description="Population stability index "
                                                        "(reference deciles or categories).")
    missing_share_reference: Share | None = Field(default=None,
                                                  description="Share of missing values.")
    missing_share_current: Share | None = Field(default=None,
                                                description="Share of missing values.")
    approximate: bool | None = Field(default=None, description="Whether a figure of this "
                                     "column is approximated (`--engine spark` says so).")
    approximated: list[Name] | None = Field(default=None, max_length=8,
                                            description="What was approximated, and how "
                                                        "closely.")


class Performance(_Strict):
    metric: Name = Field(description="Metric name as success criteria use it (f1_macro, rmse).")
    reference: Value | None = Field(description="Value on the reference data.")
    current: Value | None = Field(description="Value on the current data.")
    reference_rows: Rows | None = Field(default=None, description="Labelled rows used.")
    current_rows: Rows | None = Field(default=None, description="Labelled rows used.")


class BiasCheck(_Strict):
    attribute: Name = Field(description="The sensitive attribute (column).")
    metric: Literal["disparate_impact", "demographic_parity_difference",
                    "equal_opportunity_difference"] = Field(description="Fairness metric.")
    value: Value | None = Field(description="Measured on the current data.")
    threshold: Value = Field(description="0.8 for disparate impact, 0.1 for differences.")
    violated: bool = Field(description="Disparate impact below, or a difference above, threshold.")
    positive_label: Name | None = Field(default=None, description="The favourable outcome.")
    groups: dict[Name, Value] | None = Field(default=None, max_length=limits.MAX_GROUPS,
                                            description="Per-group rate behind the value.")


class Multivariate(_Strict):
    method: Literal["domain-classifier"] = Field(description="A classifier telling reference "
                                                            "rows from current rows.")
    auc: Share = Field( description="Cross-validated ROC AUC (0.5: no drift).")
    drifted: bool = Field(description="AUC at or above the threshold.")
    threshold: Share | None = Field(default=None, description="AUC threshold.")
    sample_rows: Rows | None = Field(default=None, description="Rows per side used.")


class DriftSummary(_Strict):
    """Top level of `mladvisor.drift/1`; unknown keys are an error."""

    schema_: Literal["mladvisor.drift/1"] = Field(alias="schema", description="Format id.")
    dataset_drift: bool = Field(description="Share of drifted columns at or above the threshold.")
    share_drifted: Share = Field( description="Drifted columns / columns tested.")
    features: list[FeatureDrift] = Field(max_length=limits.MAX_DRIFT_FEATURES,
                                         description="One entry per column.")
    performance: Performance | None = Field(default=None, description="With labels only.")
    bias: list[BiasCheck] | None = Field(default=None, max_length=limits.MAX_BIAS_CHECKS,
                                         description="With sensitive attributes.")
    reference_rows: Rows | None = Field(default=None, description="Rows in reference.")
    current_rows: Rows | None = Field(default=None, description="Rows in current.")
    multivariate: Multivariate | None = Field(default=None, description="Domain classifier.")
    engine: Literal["pyarrow", "spark"] | None = Field(default=None, description="The engine "
                                                       "that computed it (absent: pyarrow).")
    thresholds: dict[Name, Value] | None = Field(default=None, max_length=limits.MAX_THRESHOLDS,
                                                description="Thresholds used.")

    # Dumps use the alias, so `model_dump()` gives back "schema" as written.
    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True,
                              serialize_by_alias=True, strict=True, allow_inf_nan=False)
