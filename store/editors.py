"""The review app's editors, and the decisions they confirmed: rows only.

Passwords arrive already hashed (argon2, by the app's auth module): the store
never sees one. An editor is disabled, never deleted, so every review keeps the
name of who made it. Portable SQL, for both backends::

    add_editor(store, "ada", hashed)          # EditorExists if the name is taken
    editor(store, "ada")                      # Editor(name='ada', ..., disabled_at=None)
    confirm(store, 17, "ada")                 # duplicate 17: reviewed, it is a copy
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.errors import ReviewRefused
from store.sqlvalues import utcnow


@dataclass(frozen=True, slots=True)
class Editor:
    name: str
    password_hash: str
    created_at: str
    disabled_at: str | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


class EditorExists(ReviewRefused):
    """``editors add`` of a name already taken (disabled ones included)."""


def add_editor(store: Any, name: str, password_hash: str) -> Editor:
    with store._atomic():
        if editor(store, name) is not None:
            raise EditorExists(f"editor {name!r} exists already (`newsdedup editors list`)")
        store.conn.execute("INSERT INTO editors (name, password_hash, created_at) "
                           "VALUES (?,?,?)", (name, password_hash, utcnow()))
    found = editor(store, name)
    assert found is not None
    return found


def set_password(store: Any, name: str, password_hash: str) -> None:
    """Replace a hash (argon2's parameters were raised since it was made)."""
    with store._atomic():
        store.conn.execute("UPDATE editors SET password_hash = ? WHERE name = ?",
                           (password_hash, name))


def disable_editor(store: Any, name: str) -> Editor:
    with store._atomic():
        found = editor(store, name)
        if found is None:
            raise ReviewRefused(f"no editor {name!r} (`newsdedup editors list`)")
        if found.active:
            store.conn.execute("UPDATE editors SET disabled_at = ? WHERE name = ?",
                               (utcnow(), name))
    disabled = editor(store, name)
    assert disabled is not None
    return disabled


def editor(store: Any, name: str) -> Editor | None:
    row = store.conn.execute("SELECT name, password_hash, created_at, disabled_at FROM editors "
                             "WHERE name = ?", (name,)).fetchone()
    return None if row is None else Editor(*row)


def editors(store: Any) -> list[Editor]:
    rows = store.conn.execute("SELECT name, password_hash, created_at, disabled_at FROM editors "
                              "ORDER BY name").fetchall()
    return [Editor(*row) for row in rows]


def confirm(store: Any, duplicate_id: int, editor_name: str) -> bool:
    """Mark duplicate ``duplicate_id`` reviewed (the decision stands); False if it was
    already. Refused if the duplicate no longer exists (split meanwhile)."""
    with store._atomic():
        exists = store.conn.execute("SELECT 1 FROM duplicates WHERE id = ?",
                                    (duplicate_id,)).fetchone()
        if exists is None:
            raise ReviewRefused(f"no duplicate {duplicate_id}: it was split or never existed")
        done = store.conn.execute(
            "INSERT INTO decision_marks VALUES (?,?,?) ON CONFLICT (duplicate_id) DO NOTHING "
            "RETURNING duplicate_id", (duplicate_id, editor_name, utcnow())).fetchall()
    return bool(done)
