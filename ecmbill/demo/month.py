"""A realistic synthetic month for a fictional ECM provider.

Every name and identifier here is fake: members' CINs start with 99 and end with F (for fake),
their last names start with "Demo-", and the provider does not exist.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ecmbill.contract import Contract, default_contract
from ecmbill.domain.identifiers import luhn_ok
from ecmbill.domain.period import Period
from ecmbill.store.files import write_table

FIRST_NAMES = (
    "Maria",
    "Jose",
    "Guadalupe",
    "Juan",
    "Rosa",
    "Luis",
    "Ana",
    "Carlos",
    "Elena",
    "Miguel",
    "Sofia",
    "Jorge",
    "Carmen",
    "Pedro",
    "Lucia",
    "David",
    "Teresa",
    "Raul",
    "Linda",
    "James",
    "Patricia",
    "Robert",
    "Mary",
    "Michael",
)
SURNAMES = (
    "Garcia",
    "Hernandez",
    "Lopez",
    "Martinez",
    "Gonzalez",
    "Rodriguez",
    "Perez",
    "Sanchez",
    "Ramirez",
    "Torres",
    "Flores",
    "Rivera",
    "Smith",
    "Johnson",
    "Nguyen",
)


@dataclass(frozen=True)
class DemoFiles:
    period: Period
    staff: Path
    members: Path
    eligibility: Path
    enrollments: Path
    time: Path
    outreach: Path

    def in_import_order(self) -> list[tuple[str, Path]]:
        return [
            ("staff", self.staff),
            ("members", self.members),
            ("eligibility", self.eligibility),
            ("enrollments", self.enrollments),
            ("time", self.time),
            ("outreach", self.outreach),
        ]


def fake_npi(rng: random.Random) -> str:
    while True:
        candidate = "1" + "".join(rng.choice("0123456789") for _ in range(9))
        if luhn_ok("80840" + candidate):
            return candidate


def generate(
    folder: Path,
    period: Period,
    *,
    members: int = 300,
    seed: int = 2026,
    contract: Contract | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoFiles:
    """The month's six import files. Time is spread over the contract's activity catalogue
    (default: the plan's billing guide), a few entries on activities that do not bill.
    ``progress(done, members)`` is told how many members are made so far."""
    rng = random.Random(seed)
    catalogue = contract or default_contract()
    service_activities = catalogue.activity_names(reimbursable=True)
    not_reimbursable = catalogue.activity_names(reimbursable=False)
    folder.mkdir(parents=True, exist_ok=True)
    start, end = period.start, period.end
    previous = Period.of(start - timedelta(days=1))
    days = [start + timedelta(days=d) for d in range((end - start).days + 1)]
    mid_month = start + timedelta(days=15)

    staff_rows = []
    clinical = [f"S{i:03d}" for i in range(1, 6)]
    non_clinical = [f"S{i:03d}" for i in range(6, 12)]
    for staff_id in clinical:
        staff_rows.append(
            [staff_id, f"Demo Clinician {staff_id}", "clinical", fake_npi(rng), "", ""]
        )
    for staff_id in non_clinical[:-1]:
        staff_rows.append(
            [staff_id, f"Demo Community Health Worker {staff_id}", "non_clinical", "", "", ""]
        )
    # A community health worker who becomes a clinical care manager mid-month bills under
    # both codes in the same period.
    promoted = non_clinical[-1]
    promoted_npi = fake_npi(rng)
    staff_rows.append(
        [
            promoted,
            f"Demo Care Manager {promoted}",
            "non_clinical",
            promoted_npi,
            "",
            (mid_month - timedelta(days=1)).isoformat(),
        ]
    )
    staff_rows.append(
        [
            promoted,
            f"Demo Care Manager {promoted}",
            "clinical",
            promoted_npi,
            mid_month.isoformat(),
            "",
        ]
    )
    # An intern with no billing role yet: their time does not bill (NO_ROLE).
    staff_rows.append(
        ["S099", "Demo Intern S099", "non_clinical", "", (end + timedelta(days=1)).isoformat(), ""]
    )
    team = clinical + non_clinical

    member_rows: list[list[str]] = []
    eligibility_rows: list[list[str]] = []
    enrollment_rows: list[list[str]] = []
    time_rows: list[list[str]] = []
    outreach_rows: list[list[str]] = []
    minutes_by_staff_day: dict[tuple[str, date], int] = {}

    def add_time(
        staff_id: str, member_id: str, on: date, minutes: int, activity: str, modality: str
    ) -> None:
        key = (staff_id, on)
        if minutes_by_staff_day.get(key, 0) + minutes > 8 * 60:
            return
        minutes_by_staff_day[key] = minutes_by_staff_day.get(key, 0) + minutes
        time_rows.append(
            [
                f"DEMO-T{len(time_rows) + 1:05d}",
                staff_id,
                member_id,
                on.isoformat(),
                str(minutes),
                activity,
                modality,
                "",
            ]
        )

    def add_outreach(
        staff_id: str, member_id: str, on: date, method: str, individualized: bool, outcome: str
    ) -> None:
        minutes = rng.choice(["", "5", "10", "15", "30"]) if individualized else ""
        outreach_rows.append(
            [
                f"DEMO-O{len(outreach_rows) + 1:05d}",
                staff_id,
                member_id,
                on.isoformat(),
                method,
                str(individualized).lower(),
                outcome,
                minutes,
            ]
        )

    for number in range(1, members + 1):
        if progress and (number % 1000 == 0 or number == members):
            progress(number, members)
        member_id = f"99{number:06d}F"
        birth = date(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
        member_rows.append(
            [member_id, rng.choice(FIRST_NAMES), f"Demo-{rng.choice(SURNAMES)}", birth.isoformat(),
             *_demo_address(number)]
        )  # fmt: skip
        eligibility_rows.append([member_id, str(previous), "true"])
        draw = rng.random()
        if draw < 0.04:
            eligibility_rows.append([member_id, str(period), "false"])  # lost Medi-Cal
        elif draw < 0.07:
            pass  # no eligibility on file for this month yet
        else:
            eligibility_rows.append([member_id, str(period), "true"])

        kind = rng.random()
        if kind < 0.68:  # enrolled before the month
            enrolled_on = start - timedelta(days=rng.randint(20, 400))
            ended = rng.random() < 0.04
            end_date = start + timedelta(days=rng.randint(8, 20)) if ended else None
            enrollment_rows.append(
                [member_id, enrolled_on.isoformat(), end_date.isoformat() if end_date else ""]
            )
            service_days = [d for d in days if end_date is None or d <= end_date + timedelta(3)]
        elif kind < 0.85:  # outreach early in the month, enrolled mid-month
            enrolled_on = start + timedelta(days=rng.randint(6, 22))
            enrollment_rows.append([member_id, enrolled_on.isoformat(), ""])
            for _ in range(rng.randint(1, 3)):
                on = start + timedelta(days=rng.randint(0, (enrolled_on - start).days - 1))
                add_outreach(
                    rng.choice(team),
                    member_id,
                    on,
                    rng.choice(["phone", "phone", "in_person", "text", "video"]),
                    True,
                    rng.choice(["not_reached", "not_reached", "reached"]),
                )
            service_days = [d for d in days if d >= enrolled_on - timedelta(days=2)]
        else:  # not enrolled: outreach only, some of it mass communication
            for _ in range(rng.randint(1, 4)):
                on = rng.choice(days)
                if rng.random() < 0.25:
                    add_outreach(
                        rng.choice(non_clinical),
                        member_id,
                        on,
                        rng.choice(["mail", "text", "email"]),
                        False,
                        "not_reached",
                    )
                else:
                    add_outreach(
                        rng.choice(team),
                        member_id,
                        on,
                        rng.choice(["phone", "phone", "in_person", "text", "email", "mail"]),
                        True,
                        rng.choice(["not_reached", "not_reached", "declined"]),
                    )
            continue

        for _ in range(rng.randint(1, 6)):
            on = rng.choice(service_days)
            modality = "in_person" if rng.random() < 0.75 else "telephonic"
            visit_team = rng.sample(team, k=rng.choice([1, 1, 1, 2, 3]))
            for staff_id in visit_team:
                activity = rng.choice(service_activities)
                add_time(
                    staff_id,
                    member_id,
                    on,
                    rng.randint(8, 95),
                    activity,
                    modality,
                )
        if not_reimbursable and rng.random() < 0.06:
            add_time(
                rng.choice(team),
                member_id,
                rng.choice(service_days),
                15,
                rng.choice(not_reimbursable),
                "in_person",
            )
        if rng.random() < 0.03:
            add_time(
                "S099", member_id, rng.choice(service_days), 30, service_activities[0], "in_person"
            )

    # Two typing mistakes a biller would make, to show how rejects are reported.
    time_rows.append(
        [
            "DEMO-T99998",
            "S001",
            "99000001",
            start.isoformat(),
            "30",
            service_activities[0],
            "in_person",
            "",
        ]
    )
    time_rows.append(
        [
            "DEMO-T99999",
            "S002",
            "99000002F",
            start.isoformat(),
            "0",
            service_activities[0],
            "in_person",
            "",
        ]
    )

    def write(name: str, header: list[str], rows: list[list[str]]) -> Path:
        return write_table(folder / name, header, rows, kind="csv")

    return DemoFiles(
        period=period,
        staff=write(
            "staff.csv",
            ["staff_id", "name", "role", "npi", "effective_from", "effective_to"],
            staff_rows,
        ),
        members=write(
            "members.csv",
            [
                "member_id",
                "first_name",
                "last_name",
                "birth_date",
                "address",
                "city",
                "state",
                "zip",
                "sex",
            ],
            member_rows,
        ),
        eligibility=write("eligibility.csv", ["member_id", "month", "eligible"], eligibility_rows),
        enrollments=write(
            "enrollments.csv", ["member_id", "start_date", "end_date"], enrollment_rows
        ),
        time=write(
            "time.csv",
            [
                "entry_id",
                "staff_id",
                "member_id",
                "date",
                "minutes",
                "activity",
                "modality",
                "note",
            ],
            time_rows,
        ),
        outreach=write(
            "outreach.csv",
            [
                "attempt_id",
                "staff_id",
                "member_id",
                "date",
                "method",
                "individualized",
                "outcome",
                "minutes",
            ],
            outreach_rows,
        ),
    )


def last_full_month(today: date) -> Period:
    return Period.of(today.replace(day=1) - timedelta(days=1))


def _demo_address(number: int) -> list[str]:
    """A fake address and sex for demo member ``number`` (the claim needs both), made without
    the random generator so the rest of the demo's story stays the same."""
    return [f"{100 + number} Demo Street", "El Centro", "CA", "92243", "FM"[number % 2]]
