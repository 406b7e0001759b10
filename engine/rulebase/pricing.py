"""What an option would cost at the project's volume, from the dated price table.

knowledge/pricing.yaml holds, per offer, the lines a provider bills (characters, tokens, pages,
audio minutes, requests, endpoint hours) with a low and a high unit price; this module turns a
case's monthly volume and request size into a monthly range and a one-off build range, with
the arithmetic written out so that a reader can check it. No price or service is named here.

An offer may also say how it bills batch work (`batch`: asynchronous jobs, or a model started
for each batch and stopped after it). Those lines replace the always-on ones when the project
states no response time it must meet: an architect would not keep an endpoint running all month
for work that can wait.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.model.vocab import Task
from engine.util.memo import keep

# Quantities of a month that follow from the volume and the size of one request.
PER_REQUEST = ("requests", "input_chars", "output_chars", "input_tokens", "output_tokens",
               "pages", "audio_minutes")
RunningDriver = Literal["requests", "input_chars", "output_chars", "input_tokens",
                        "output_tokens", "pages", "audio_minutes", "endpoint_hours", "hours",
                        "batch_hours"]
BuildDriver = Literal["training_hours", "session_hours", "labels", "fixed"]
# The answers that size one request, the size each driver reads, and the unit it counts.
SIZE_FIELDS = ("input_chars", "output_chars", "pages", "audio_minutes")
SIZE_OF = {"input_chars": "input_chars", "input_tokens": "input_chars",
           "output_chars": "output_chars", "output_tokens": "output_chars", "pages": "pages",
           "audio_minutes": "audio_minutes"}
UNITS = {"requests": "requests", "input_chars": "characters in", "output_chars":
         "characters out", "input_tokens": "tokens in", "output_tokens": "tokens out",
         "pages": "pages", "audio_minutes": "audio minutes", "endpoint_hours": "instance hours",
         "batch_hours": "job hours", "hours": "hours", "training_hours": "training hours",
         "session_hours": "session hours", "labels": "labels", "fixed": "once"}


SINGULAR = {"requests": "request", "input_chars": "character in",
            "output_chars": "character out", "input_tokens": "token in",
            "output_tokens": "token out", "pages": "page", "audio_minutes": "audio minute",
            "hours": "hour", "batch_hours": "job hour", "training_hours": "training hour",
            "session_hours": "session hour", "labels": "label"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(_Model):
    low: float = Field(ge=0, allow_inf_nan=False)
    high: float = Field(ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


class RunningLine(_Model):
    driver: RunningDriver
    per: float = Field(gt=0, allow_inf_nan=False, description="The price is per this many units.")
    usd: Range
    what: str
    min_units_per_request: float | None = Field(None, ge=0, allow_inf_nan=False)
    requests_per_instance_month: Range | None = Field(
        None, description="endpoint_hours and batch_hours: requests one instance serves in a "
        "month of continuous running.")
    min_hours: float = Field(1, ge=0, allow_inf_nan=False, description="batch_hours only: "
                             "the hours a month's jobs bill at least (start-up, one batch).")

    @model_validator(mode="after")
    def _capacity(self) -> RunningLine:
        capacity = self.requests_per_instance_month
        hourly = ("endpoint_hours", "batch_hours")
        if capacity is not None and self.driver not in hourly:
            raise ValueError("requests_per_instance_month belongs to an endpoint_hours or "
                             "batch_hours line")
        if capacity is None and self.driver == "batch_hours":
            raise ValueError("a batch_hours line needs requests_per_instance_month")
        if capacity is not None and capacity.low <= 0:
            raise ValueError("requests_per_instance_month must be above 0")
        return self


class BuildLine(_Model):
    driver: BuildDriver
    per: float = Field(1, gt=0, allow_inf_nan=False)
    usd: Range
    what: str
    quantity: Range | None = Field(None, description="How many units; labels are counted.")

    @model_validator(mode="after")
    def _counted(self) -> BuildLine:
        if (self.quantity is None) != (self.driver == "labels"):
            raise ValueError("a build line gives a quantity, except a labels line (counted "
                             "from the labels still missing)")
        return self


class OfferPrice(_Model):
    offer: str
    checked: dt.date
    source: str = Field(pattern=r"^https://")
    running: list[RunningLine] = Field(default_factory=list)
    batch: list[RunningLine] = Field(
        default_factory=list, description="How batch work is billed, replacing `running` when "
        "the project needs no prompt response (see Pricing.batch_latency_ms).")
    build: list[BuildLine] = Field(default_factory=list)
    note: str = ""

    @model_validator(mode="after")
    def _batch_runs_only_for_its_jobs(self) -> OfferPrice:
        if any(line.driver == "endpoint_hours" for line in self.batch):
            raise ValueError("a batch line bills jobs, not an always-on endpoint "
                             "(use batch_hours)")
        return self


class RequestSize(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)  # shared (request_size keeps them)

    input_chars: int = Field(0, ge=0)
    output_chars: int = Field(0, ge=0)
    pages: float = Field(0, ge=0, allow_inf_nan=False)
    audio_minutes: float = Field(0, ge=0, allow_inf_nan=False)


NO_SIZE = RequestSize.model_validate({})  # a task whose price depends on the count only


class Pricing(_Model):
    schema_: Literal["mladvisor.pricing/1"] = Field(alias="schema")
    region: str
    chars_per_token: float = Field(gt=0, allow_inf_nan=False)
    hours_per_month: float = Field(gt=0, allow_inf_nan=False)
    batch_latency_ms: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="A stated p95 response time at least this "
        "long still leaves room for batch jobs; none: any stated response time needs the "
        "always-on route.")
    request_defaults: dict[Task, RequestSize] = Field(default_factory=dict)
    offers: list[OfferPrice] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Pricing:
        seen = [o.offer for o in self.offers]
        dup = sorted({o for o in seen if seen.count(o) > 1})
        if dup:
            raise ValueError(f"offer priced twice: {', '.join(dup)}")
        return self

    def price(self, offer: str) -> OfferPrice | None:
        return self.prices_by_offer.get(offer)

    @functools.cached_property
    def prices_by_offer(self) -> dict[str, OfferPrice]:
        """Prices by offer id (asked for every offer of every case); each is priced once."""
        return {p.offer: p for p in self.offers}

    @functools.cached_property
    def figures_known(self) -> dict[tuple[Any, ...], Figures | None]:
        """figures' answers by the values it reads (asked for every offer of every case)."""
        return {}

    @functools.cached_property
    def request_sizes(self) -> dict[tuple[Any, ...], tuple[RequestSize, tuple[str, ...]]]:
        """request_size's answers by the values it reads (asked for every offer of a case)."""
        return {}


@dataclass
class Estimate:
    """A cost range for one option (CONTRACT section 9) or, with `cost` None, why not."""

    cost: dict[str, Any] | None
    note: str = ""
    assumed: list[str] = field(default_factory=list)  # request sizes taken from the defaults


def _num(value: float) -> str:
    """A quantity as a reader checks it: thousands separated, no needless decimals."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _usd(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:,.2f}" if value >= 1 else f"{value:.4g}"


def _span(rng: tuple[float, float], money: bool = False) -> str:
    fmt = _usd if money else _num
    low, high = rng
    return fmt(low) if math.isclose(low, high) else f"{fmt(low)}-{fmt(high)}"


def request_size(pricing: Pricing, case: Mapping[str, Any]) -> tuple[RequestSize, list[str]]:
    """The size of one request: the answers where given, else the task's default (listed).
    Kept per the values read (types included), since every offer of a case asks."""
    key = _size_key(case)
    try:
        known = pricing.request_sizes.get(key)
    except TypeError:  # an unhashable answer: not kept
        return _request_size(pricing, case)
    if known is None:
        size, assumed = _request_size(pricing, case)
        known = keep(pricing.request_sizes, key, (size, tuple(assumed)), 4096)
    return known[0], list(known[1])


def _size_key(case: Mapping[str, Any]) -> tuple[Any, ...]:
    """What request_size reads of the answers, types included."""
    given = tuple(case.get(f"problem.{name}_per_request") for name in SIZE_FIELDS)
    return case.get("problem.task"), given, tuple(map(type, given))


def _request_size(pricing: Pricing, case: Mapping[str, Any]) -> tuple[RequestSize, list[str]]:
    task = case.get("problem.task")
    default = pricing.request_defaults.get(task) or NO_SIZE  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    assumed: list[str] = []
    for name in SIZE_FIELDS:
        given = case.get(f"problem.{name}_per_request")
        if given is None:
            values[name] = getattr(default, name)
            if values[name]:
                assumed.append(f"problem.{name}_per_request")
        else:
            values[name] = given
    return RequestSize.model_validate(values), assumed


def _monthly_units(line: RunningLine, requests: float, size: RequestSize,
                   chars_per_token: float) -> float:
    per_request = {"requests": 1.0, "input_chars": size.input_chars,
                   "output_chars": size.output_chars,
                   "input_tokens": size.input_chars / chars_per_token,
                   "output_tokens": size.output_chars / chars_per_token,
                   "pages": size.pages, "audio_minutes": size.audio_minutes}[line.driver]
    if line.min_units_per_request is not None:
        per_request = max(per_request, line.min_units_per_request)
    return requests * per_request


def _instances(line: RunningLine, requests: float) -> tuple[int, int]:
    """How many endpoint instances a month's requests need, fewest and most."""
    cap = line.requests_per_instance_month or Range(low=math.inf, high=math.inf)
    fewest = max(1, math.ceil(requests / cap.high)) if requests else 1
    most = max(1, math.ceil(requests / cap.low)) if requests else 1
    return fewest, most


def _running_range(line: RunningLine, requests: float, size: RequestSize, pricing: Pricing
                   ) -> tuple[float, float]:
    """A running line's monthly cost, low and high."""
    if line.driver == "hours":
        hours = pricing.hours_per_month
        return hours * line.usd.low / line.per, hours * line.usd.high / line.per
    if line.driver == "endpoint_hours":
        fewest, most = _instances(line, requests)
        hours = pricing.hours_per_month
        return fewest * hours * line.usd.low / line.per, most * hours * line.usd.high / line.per
    if line.driver == "batch_hours":
        first, last = _job_hours(line, requests, pricing.hours_per_month)
        return first * line.usd.low / line.per, last * line.usd.high / line.per
    units = _monthly_units(line, requests, size, pricing.chars_per_token)
    return units * line.usd.low / line.per, units * line.usd.high / line.per


def _running(line: RunningLine, requests: float, size: RequestSize, pricing: Pricing
             ) -> tuple[float, float, str]:
    low, high = _running_range(line, requests, size, pricing)
    if line.driver == "hours":
        hours = pricing.hours_per_month
        if line.per == hours:  # a monthly fee
            return low, high, f"a monthly fee ({line.what})"
        return low, high, (f"{_num(hours)} hours x {_span((line.usd.low, line.usd.high), True)}"
                           f" USD {_per(line.driver, line.per)} ({line.what})")
    if line.driver == "batch_hours":
        return low, high, _batch_hours_text(line, requests, pricing.hours_per_month)
    if line.driver == "endpoint_hours":
        count = _span(_instances(line, requests))
        return low, high, (f"{count} instance(s) x {_num(pricing.hours_per_month)} hours x "
                           f"{_span((line.usd.low, line.usd.high), True)} USD per hour "
                           f"({line.what})")
    return low, high, (f"{_how_many(line, requests, size, pricing)} x "
                       f"{_span((line.usd.low, line.usd.high), True)} USD "
                       f"{_per(line.driver, line.per)} ({line.what})")


def _job_hours(line: RunningLine, requests: float, hours_per_month: float
               ) -> tuple[float, float]:
    """Instance hours of jobs sized to the month's volume: the hourly rate of one instance
    running continuously, never less than the line's minimum (fewest, most)."""
    cap = line.requests_per_instance_month
    assert cap is not None  # the model requires it for batch_hours
    return (max(line.min_hours, requests * hours_per_month / cap.high),
            max(line.min_hours, requests * hours_per_month / cap.low))


def _batch_hours_text(line: RunningLine, requests: float, hours_per_month: float) -> str:
    cap = line.requests_per_instance_month
    assert cap is not None
    fewest, most = _job_hours(line, requests, hours_per_month)
    fast, slow = cap.high / hours_per_month, cap.low / hours_per_month
    return (f"{_num(requests)} requests at {_span((slow, fast))} an hour = "
            f"{_span((round(fewest, 1), round(most, 1)))} job hours (at least "
            f"{_num(line.min_hours)}) x {_span((line.usd.low, line.usd.high), True)} "
            f"USD per hour ({line.what})")


def batch_allowed(pricing: Pricing, case: Mapping[str, Any]) -> bool:
    """No stated response time, or one long enough for jobs (latency.p95_ms is the tightest
    bound the answers and success criteria state)."""
    bound = case.get("latency.p95_ms")
    return bound is None or (pricing.batch_latency_ms is not None
                             and bound >= pricing.batch_latency_ms)


def _per(driver: str, per: float) -> str:
    """'per hour', 'per 1,000,000 tokens in': what one price is quoted for."""
    if per == 1:
        return f"per {SINGULAR.get(driver, UNITS[driver])}"
    return f"per {_num(per)} {UNITS[driver]}"


def _how_many(line: RunningLine, requests: float, size: RequestSize, pricing: Pricing) -> str:
    """How a month's units follow from the volume: '200,000 requests x 1,000 characters in'."""
    units = _monthly_units(line, requests, size, pricing.chars_per_token)
    if line.driver == "requests":
        return f"{_num(units)} requests"
    each = units / requests if requests else 0.0
    chars = {"input_tokens": size.input_chars, "output_tokens": size.output_chars}
    if line.driver in chars and each > 0:
        return (f"{_num(requests)} requests x {_num(chars[line.driver])} characters / "
                f"{_num(pricing.chars_per_token)} = {_num(units)} {UNITS[line.driver]}")
    return f"{_num(requests)} requests x {_num(each)} {UNITS[line.driver]}"


def _quantity(line: BuildLine, missing_labels: int) -> tuple[float, float]:
    return (missing_labels, missing_labels) if line.quantity is None else (
        line.quantity.low, line.quantity.high)


def _build_range(line: BuildLine, missing_labels: int) -> tuple[float, float]:
    """A build line's one-off cost, low and high."""
    qty = _quantity(line, missing_labels)
    return qty[0] * line.usd.low / line.per, qty[1] * line.usd.high / line.per


def _build(line: BuildLine, missing_labels: int) -> tuple[float, float, str]:
    unit = UNITS[line.driver]
    low, high = _build_range(line, missing_labels)
    if line.driver == "fixed":
        return low, high, f"{_span((low, high), True)} USD once ({line.what})"
    return low, high, (f"{_span(_quantity(line, missing_labels))} {unit} x "
                       f"{_span((line.usd.low, line.usd.high), True)} "
                       f"USD {_per(line.driver, line.per)} ({line.what})")


@dataclass(frozen=True)
class Figures:
    """An estimate's numbers alone, rounded as `estimate` rounds them."""

    low: float  # running, USD a month
    high: float
    build_low: float  # once, USD
    build_high: float
    assumed: bool  # resting on a request size the answers did not give


def _priced(pricing: Pricing, offer: str, case: Mapping[str, Any], labels_needed: int,
            running: bool, basis: list[str] | None
            ) -> tuple[Figures, OfferPrice, RequestSize, list[str]] | str:
    """The arithmetic of an estimate, written out into `basis` unless it is None; or why
    there is none."""
    price = pricing.price(offer)
    if price is None:
        return "no price in the catalog for this option"
    requests = case.get("problem.requests_per_month")
    # jobs are sized to the volume: without it, the always-on route is what can be priced
    batch = (running and bool(price.batch) and requests is not None
             and batch_allowed(pricing, case))
    lines = price.batch if batch else price.running if running else []
    if requests is None and any(line.driver in PER_REQUEST for line in lines):
        return "the monthly volume is not given (problem.requests_per_month)"
    if batch and basis is not None:
        basis.append("batch: no response time is required, so the work runs as jobs on the "
                     "month's volume instead of on an always-on endpoint")
    size, assumed = request_size(pricing, case)
    used = {SIZE_OF.get(line.driver) for line in lines}
    assumed = [path for path in assumed if path.split(".")[1].removesuffix("_per_request")
               in used]
    low, high = 0.0, 0.0
    for line in lines:
        if basis is None:
            lo, hi = _running_range(line, float(requests or 0), size, pricing)
        else:
            lo, hi, text = _running(line, float(requests or 0), size, pricing)
            basis.append(f"{text} = {_span((lo, hi), True)} USD a month")
        low, high = low + lo, high + hi
    missing = max(0, labels_needed - int(case.get("data.labeled_examples") or 0))
    build_low = build_high = 0.0
    for bline in price.build:
        if basis is None:
            lo, hi = _build_range(bline, missing)
        else:
            lo, hi, text = _build(bline, missing)
            basis.append(f"build: {text} = {_span((lo, hi), True)} USD")
        build_low, build_high = build_low + lo, build_high + hi
    figures = Figures(round(low, 2), round(high, 2), round(build_low, 2), round(build_high, 2),
                      bool(assumed))
    return figures, price, size, assumed


def figures(pricing: Pricing, offer: str, case: Mapping[str, Any], labels_needed: int = 0,
            running: bool = True) -> Figures | None:
    """An estimate's numbers without its arithmetic written out: what each offer fact carries
    for a case (knowledge.fit_offer); the report's option writes out the rest (`estimate`)."""
    # kept per what _priced reads of the answers (types included): the volume, the tightest
    # response time (batch_allowed), the request size and the labels at hand. Every offer of
    # every case asks, and generated cases repeat these far more often than whole answers.
    requests, labeled = case.get("problem.requests_per_month"), case.get("data.labeled_examples")
    key: Any = (offer, labels_needed, running, requests, type(requests), labeled, type(labeled),
                batch_allowed(pricing, case), _size_key(case))
    known = pricing.figures_known
    try:
        if key in known:
            return known[key]
    except TypeError:  # an unhashable answer: not kept
        key = None
    priced = _priced(pricing, offer, case, labels_needed, running, None)
    numbers = None if isinstance(priced, str) else priced[0]
    if key is not None:
        keep(known, key, numbers, 8192)
    return numbers


def estimate(pricing: Pricing, offer: str, case: Mapping[str, Any], labels_needed: int = 0,
             running: bool = True, where: str = "") -> Estimate:
    """The monthly running range and one-off build range of an offer for a case; `running`
    false where the provider does not bill the running model (`where` says why)."""
    basis: list[str] = []
    if not running:
        basis.append(f"running: no provider price ({where[:1].lower() + where[1:]})"
                     if where else "running: no provider price")
    priced = _priced(pricing, offer, case, labels_needed, running, basis)
    if isinstance(priced, str):
        return Estimate(None, priced)
    numbers, price, size, assumed = priced
    cost = {"low_usd_per_month": numbers.low, "high_usd_per_month": numbers.high,
            "build_usd": {"low": numbers.build_low, "high": numbers.build_high},
            "basis": basis, "priced_on": price.checked.isoformat(), "measured": False,
            "running_billed": running,
            "assumed": [f"{path} = {getattr(size, path[len('problem.'):-len('_per_request')])}"
                        for path in assumed]}
    value = case.get("business.expected_value_usd_per_month")
    payback = payback_months(cost, value)
    if payback is not None:
        cost["payback_months"] = payback
    return Estimate(cost, price.note, assumed)


def payback_months(cost: Mapping[str, Any], value: float | None) -> dict[str, float] | None:
    """Build cost over the monthly margin (value less running cost), best and worst case;
    none when either is unknown, nothing is built, or the margin is not positive."""
    build = cost.get("build_usd") or {}
    if value is None or not build.get("high"):
        return None
    best_margin = value - cost["low_usd_per_month"]
    worst_margin = value - cost["high_usd_per_month"]
    if best_margin <= 0 or worst_margin <= 0:
        return None
    return {"low": round(build["low"] / best_margin, 1),
            "high": round(build["high"] / worst_margin, 1)}


def measured(cost_usd_per_month: float, candidate: str) -> dict[str, Any]:
    """A benchmark's measured monthly cost, which replaces the estimate for its option."""
    return {"low_usd_per_month": round(cost_usd_per_month, 2),
            "high_usd_per_month": round(cost_usd_per_month, 2),
            "build_usd": {"low": 0.0, "high": 0.0},
            "basis": [f"measured in the benchmark of {candidate}: "
                      f"{_usd(cost_usd_per_month)} USD a month"],
            "priced_on": None, "measured": True}
