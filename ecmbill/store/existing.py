"""What an existing SQLite file holds, read without migrating or changing it: asked before a
command (``ecmbill demo``) would delete the file and start again."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

# The audit trail's actor of everything the demo itself writes.
DEMO_ACTOR = "demo"


@dataclass(frozen=True)
class Holdings:
    """Enough to say what deleting the file would lose."""

    usernames: tuple[str, ...] = ()
    members: int = 0
    # Records written by someone other than the demo (a person, an import, the web).
    changed_by_others: int = 0
    # The file is not an ecmbill database we can read.
    unreadable: bool = False

    @property
    def only_the_demos_own(self) -> bool:
        return not (self.usernames or self.changed_by_others or self.unreadable)


def holdings(path: Path) -> Holdings:
    """What the SQLite file at ``path`` holds; opened read-only, never migrated."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return Holdings(unreadable=True)
    try:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        usernames: tuple[str, ...] = ()
        if "users" in tables:
            found = connection.execute("SELECT username FROM users ORDER BY id")
            usernames = tuple(str(name) for (name,) in found)
        members = 0
        if "members" in tables:
            members = int(connection.execute("SELECT count(*) FROM members").fetchone()[0])
        others = 0
        if "audit_log" in tables:
            others = int(
                connection.execute(
                    "SELECT count(*) FROM audit_log WHERE actor <> ?", (DEMO_ACTOR,)
                ).fetchone()[0]
            )
        return Holdings(usernames, members, others)
    except sqlite3.Error:
        return Holdings(unreadable=True)
    finally:
        connection.close()
