"""Breakdowns that do not add up to their total: warnings for data managers, never refusals."""

from dataclasses import dataclass
from itertools import groupby

from stats.store.formatting import format_decimal
from stats.store.periods import format_period


@dataclass
class BreakdownWarning:
    message: str
    total: object
    breakdown_sum: object
    observations: list


def group_key(o):
    """The figures a breakdown must add up within: metric, place, period and edition."""
    return (o.metric_id, o.jurisdiction_id, o.period_start, o.period_end, o.source_id)


def breakdown_warnings(observations):
    """Warn where a count's breakdown does not add up to its total.

    The hotline's 2019 cases are 233 while its breakdown by type adds up to 234: published
    figures may overlap, so this is a warning to check the sheet, never an error. Only counts
    are checked, per metric, jurisdiction, period and source edition, when both the total and
    at least one category are present. Uses the related objects already loaded on each
    observation (select_related or the import's maps).
    """
    observations = sorted(
        (o for o in observations if o.metric.unit == "count"),
        key=lambda o: tuple(str(part) for part in group_key(o)),
    )
    warnings = []
    for _key, group in groupby(observations, key=group_key):
        group = list(group)
        totals = [o for o in group if o.breakdown_id is None]
        parts = [o for o in group if o.breakdown_id is not None]
        if len(totals) != 1 or not parts:
            continue
        total = totals[0].value
        breakdown_sum = sum(o.value for o in parts)
        if breakdown_sum != total:
            first = totals[0]
            warnings.append(
                BreakdownWarning(
                    message=(
                        f"{first.metric}, {first.jurisdiction}, "
                        f"{format_period(first.period_start, first.period_end)} "
                        f"({first.source.slug}): the breakdown adds up to "
                        f"{format_decimal(breakdown_sum)} but the total is "
                        f"{format_decimal(total)}. "
                        "Check the figures; published categories may overlap."
                    ),
                    total=total,
                    breakdown_sum=breakdown_sum,
                    observations=group,
                )
            )
    return warnings
