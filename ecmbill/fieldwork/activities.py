"""The contract's activities as a care manager picks them: grouped by the ECM core component
they belong to (in the guide's order), sorted by description within a group, the activities
that do not bill last."""

from __future__ import annotations

from dataclasses import dataclass

from ecmbill.contract import Contract
from ecmbill.contract.model import COMPONENTS

NOT_BILLABLE_GROUP = "Not billable"


@dataclass(frozen=True)
class ActivityChoice:
    name: str
    description: str
    reimbursable: bool


def component_label(component: str) -> str:
    """ "member_family_supports" → "Member family supports"."""
    return component.replace("_", " ").capitalize()


def activity_groups(contract: Contract) -> list[tuple[str, list[ActivityChoice]]]:
    groups: dict[str, list[ActivityChoice]] = {}
    for name, activity in contract.activities.items():
        label = (
            component_label(activity.component)
            if activity.reimbursable and activity.component
            else NOT_BILLABLE_GROUP
        )
        groups.setdefault(label, []).append(
            ActivityChoice(name, activity.description, activity.reimbursable)
        )
    order = [component_label(c) for c in COMPONENTS] + [NOT_BILLABLE_GROUP]
    return [
        (label, sorted(groups[label], key=lambda a: a.description.lower()))
        for label in order
        if label in groups
    ]
