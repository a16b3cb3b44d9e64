"""County capacity norms checked against given data: exact comparison, shortfall, errors."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from optimizer.capacity import capacity_compliance, capacity_summary
from optimizer.schema.case import CapacityNorms


def norms(**kw):
    checks = kw.pop(
        "checks",
        [
            {"name": "cdc_staff", "have": 14, "min": 1.75, "unit": "staff"},
            {"name": "beds", "have": 295, "min": 3.7, "per": 1000, "unit": "beds"},
        ],
    )
    return CapacityNorms(checks=checks, **kw)


def test_exact_boundary_and_shortfall():
    # 1.75 x 80,000 / 10,000 = 14 exactly (met); 3.7 x 80,000 / 1,000 = 296 (short by 1)
    block = capacity_compliance(norms(), residents=80_000)
    rows = {r["norm"]: r for r in block["table"]}
    assert rows["capacity.cdc_staff"]["met"] and rows["capacity.cdc_staff"]["required"] == 14
    assert not rows["capacity.beds"]["met"] and rows["capacity.beds"]["shortfall"] == 1
    assert block["met"] == 1 and block["checks"] == 2
    text = "\n".join(capacity_summary(block))
    assert "NO  beds" in text and "short by 1" in text


def test_given_population_overrides_the_demand_residents():
    block = capacity_compliance(norms(population=100_000), residents=80_000)
    assert block["population"] == 100_000
    assert block["table"][0]["required"] == pytest.approx(17.5)


def test_bad_checks_are_errors():
    with pytest.raises(ValidationError):
        norms(checks=[{"name": "x", "have": -1, "min": 1.0}])
    with pytest.raises(ValidationError):
        norms(checks=[])
    with pytest.raises(ValidationError):
        norms(checks=[{"name": "x", "have": 1, "min": 1.0, "typo": 2}])


def test_share_of_a_given_count():
    """>= 5% of 130 new hires reserved for grassroots posts: 6.5 needed, 6 short by 1."""
    block = capacity_compliance(
        norms(checks=[{"name": "grassroots_hires", "have": 6, "min_share": 0.05, "of": 130}]),
        residents=80_000,
    )
    row = block["table"][0]
    assert row["required"] == 6.5 and not row["met"] and row["shortfall"] == 1
    assert "(4.6%)" in "\n".join(capacity_summary(block))
    with pytest.raises(ValidationError, match="either min"):
        norms(checks=[{"name": "x", "have": 1, "min": 1.0, "min_share": 0.1, "of": 5}])
    with pytest.raises(ValidationError, match="needs `of`"):
        norms(checks=[{"name": "x", "have": 1, "min_share": 0.1}])
