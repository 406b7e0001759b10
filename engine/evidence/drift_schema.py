"""The `mladvisor.drift/1` document (CONTRACT section 4) as pydantic models.

`mladvisor drift` writes it and `assess --drift` validates with `DriftSummary`. Only pydantic is
imported here, so the loader stays light.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_ID = "mladvisor.drift/1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class FeatureDrift(_Strict):
    name: str = Field(description="Column name.")
    kind: Literal["numeric", "categorical"] = Field(description="How the column was treated.")
    method: str = Field(description="Test as Evidently names it: ks, chisquare, z, wasserstein, "
                                    "jensenshannon; `missing` when one side has no values.")
    statistic: float | None = Field(description="The test statistic or distance.")
    p_value: float | None = Field(default=None, description="p-value, null for distances.")
    drifted: bool = Field(description="The test's verdict at its threshold.")
    threshold: float | None = Field(default=None, description="Threshold the verdict used.")
    psi: float | None = Field(default=None, description="Population stability index "
                                                        "(reference deciles or categories).")
    missing_share_reference: float | None = Field(default=None, ge=0, le=1,
                                                  description="Share of missing values.")
    missing_share_current: float | None = Field(default=None, ge=0, le=1,
                                                description="Share of missing values.")


class Performance(_Strict):
    metric: str = Field(description="Metric name as success criteria use it (f1_macro, rmse).")
    reference: float | None = Field(description="Value on the reference data.")
    current: float | None = Field(description="Value on the current data.")
    reference_rows: int | None = Field(default=None, ge=0, description="Labelled rows used.")
    current_rows: int | None = Field(default=None, ge=0, description="Labelled rows used.")


class BiasCheck(_Strict):
    attribute: str = Field(description="The sensitive attribute (column).")
    metric: Literal["disparate_impact", "demographic_parity_difference",
                    "equal_opportunity_difference"] = Field(description="Fairness metric.")
    value: float | None = Field(description="Measured on the current data.")
    threshold: float = Field(description="0.8 for disparate impact, 0.1 for differences.")
    violated: bool = Field(description="Disparate impact below, or a difference above, threshold.")
    positive_label: str | None = Field(default=None, description="The favourable outcome.")
    groups: dict[str, float] | None = Field(default=None,
                                            description="Per-group rate behind the value.")


class Multivariate(_Strict):
    method: Literal["domain-classifier"] = Field(description="A classifier telling reference "
                                                            "rows from current rows.")
    auc: float = Field(ge=0, le=1, description="Cross-validated ROC AUC (0.5: no drift).")
    drifted: bool = Field(description="AUC at or above the threshold.")
    threshold: float | None = Field(default=None, description="AUC threshold.")
    sample_rows: int | None = Field(default=None, ge=0, description="Rows per side used.")


class DriftSummary(_Strict):
    """Top level of `mladvisor.drift/1`; unknown keys are an error."""

    schema_: Literal["mladvisor.drift/1"] = Field(alias="schema", description="Format id.")
    dataset_drift: bool = Field(description="Share of drifted columns at or above the threshold.")
    share_drifted: float = Field(ge=0, le=1, description="Drifted columns / columns tested.")
    features: list[FeatureDrift] = Field(description="One entry per column.")
    performance: Performance | None = Field(default=None, description="With labels only.")
    bias: list[BiasCheck] | None = Field(default=None, description="With sensitive attributes.")
    reference_rows: int | None = Field(default=None, ge=0, description="Rows in reference.")
    current_rows: int | None = Field(default=None, ge=0, description="Rows in current.")
    multivariate: Multivariate | None = Field(default=None, description="Domain classifier.")
    thresholds: dict[str, float] | None = Field(default=None, description="Thresholds used.")

    # Dumps use the alias, so `model_dump()` gives back "schema" as written.
    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True,
                              serialize_by_alias=True)
