"""The demo data of a first start: made once, with a demo teacher whose password is random."""

from __future__ import annotations

from pathlib import Path

from calculatice.catalogue import Bank
from calculatice.demo import DEMO_CLASS, DEMO_TEACHER, ensure_demo
from calculatice.store import open_store
from calculatice.teacher import authenticate, classrooms_of


def test_the_demo_is_made_once_and_its_teacher_signs_in_with_the_password_told_once(
    tmp_path: Path, bank: Bank
) -> None:
    with open_store(f"sqlite:///{tmp_path / 'demo.sqlite'}") as store:
        first = ensure_demo(store, bank)
        again = ensure_demo(store, bank)
        signed_in = authenticate(store, DEMO_TEACHER, first.teacher_password)
        refused = authenticate(store, DEMO_TEACHER, "demo")
        [classroom] = store.classrooms()
        followed = classrooms_of(store, signed_in.id)

    assert (again.seance_code, again.classroom_id) == (first.seance_code, first.classroom_id)
    assert again.teacher_password is None
    assert len(first.teacher_password) == 14 and first.teacher_password.count("-") == 2
    assert signed_in is not None and signed_in.login == DEMO_TEACHER
    assert refused is None
    assert classroom.name == DEMO_CLASS
    assert [room.id for room in followed] == [classroom.id]


def test_two_servers_get_two_demo_passwords(tmp_path: Path, bank: Bank) -> None:
    passwords = set()
    for name in ("a", "b"):
        with open_store(f"sqlite:///{tmp_path / name}.sqlite") as store:
            passwords.add(ensure_demo(store, bank).teacher_password)
    assert len(passwords) == 2 and None not in passwords
