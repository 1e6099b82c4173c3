"""The teacher's side: accounts, séances for their classes, and following a class's results.

Passwords are hashed with argon2 (:mod:`argon2`); the store only ever sees
the hash. Every read of a class goes through :class:`TeacherDesk`, which
refuses a class that the signed-in teacher does not follow. The page itself
(:class:`TeacherPage`, published as ``dashboards/enseignant.ipynb``) only
calls the functions here.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import logging
import math
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from calculatice.catalogue import Bank, Exercise, load_bank
from calculatice.errors import CalculaticeError
from calculatice.numbers import count_of
from calculatice.seances import Seance, SeanceItem, create_seance, format_code, items_of
from calculatice.store.models import Answer, Attempt, Classroom, Pupil, Teacher, classroom_teachers
from calculatice.store.records import ClassroomRecord, SeanceRecord, TeacherRecord

log = logging.getLogger(__name__)

NNBSP = "\u202f"
PASSWORD_MIN_LENGTH = 8
SIGN_IN_DELAY_SECONDS = 1.0
"""Wait after a refused sign-in, so that guessing passwords is slow."""
WRONG_SIGN_IN = "Identifiant ou mot de passe incorrect."
NOT_YOUR_CLASS = "Cette classe n'est pas l'une des vôtres."

_hasher = PasswordHasher()
# Checked against when the login is unknown, so that a refusal takes as long either way.
_DUMMY_HASH = _hasher.hash("calculatice-no-such-teacher")


class TeacherError(CalculaticeError, ValueError):
    """A teacher's request is refused; the message says why, in French."""


# Accounts.


def hash_password(password: str) -> str:
    """An argon2 hash of a password; :class:`TeacherError` if it is too short."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise TeacherError(
            f"Le mot de passe doit avoir au moins {PASSWORD_MIN_LENGTH} caractères."
        )
    return _hasher.hash(password)


def add_teacher_account(
    store, login: str, display_name: str, password: str, classroom_ids: Iterable[int] = ()
) -> TeacherRecord:
    """Create a teacher's account, with a hashed password, following some classes.

    Raises :class:`TeacherError` for a short password and
    :class:`~calculatice.errors.StoreError` for a login already taken.
    """
    login = login.strip()
    if not login or not display_name.strip():
        raise TeacherError("Donner un identifiant et un nom.")
    teacher = store.add_teacher(login, display_name.strip(), hash_password(password))
    for classroom_id in classroom_ids:
        store.assign_teacher(classroom_id, teacher.id)
    log.info("Teacher account %s created", login)
    return teacher


def has_account(store, login: str) -> bool:
    """Whether a teacher's account has this login (no password checked, nothing hashed)."""
    with Session(store.engine) as session:
        found = session.scalars(select(Teacher.id).where(Teacher.login == login.strip())).first()
        return found is not None


def authenticate(store, login: str, password: str) -> TeacherRecord | None:
    """The teacher whose login and password these are, or ``None``.

    An unknown login costs the same hash check as a wrong password.
    """
    with Session(store.engine) as session:
        row = session.scalars(select(Teacher).where(Teacher.login == login.strip())).first()
        stored = row.password_hash if row is not None else ""
        record = None if row is None else TeacherRecord(row.id, row.login, row.display_name)
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        log.info("Refused sign-in for %r", login)
        return None
    if record is None:
        return None
    return record


def teacher_by_login(store, login: str) -> TeacherRecord:
    """The teacher with this login; :class:`TeacherError` when there is none."""
    with Session(store.engine) as session:
        row = session.scalars(select(Teacher).where(Teacher.login == login.strip())).first()
        if row is None:
            raise TeacherError(f"Aucun enseignant n'a l'identifiant « {login} ».")
        return TeacherRecord(row.id, row.login, row.display_name)


def classrooms_of(store, teacher_id: int) -> list[ClassroomRecord]:
    """The classes a teacher follows, in the order they were added."""
    query = (
        select(Classroom)
        .join(classroom_teachers, classroom_teachers.c.classroom_id == Classroom.id)
        .where(classroom_teachers.c.teacher_id == teacher_id)
        .order_by(Classroom.id)
    )
    with Session(store.engine) as session:
        return [
            ClassroomRecord(room.id, room.school_id, room.name, room.level, room.code)
            for room in session.scalars(query)
        ]


# Following a class.


@dataclass(frozen=True)
class PupilProgress:
    """Where one pupil (or pair) is in a séance."""

    name: str
    started: int
    finished: int
    score: int
    total: int

    def status(self, exercises: int) -> str:
        """« pas commencé », « en cours » or « terminé »."""
        if self.started == 0:
            return "pas commencé"
        return "terminé" if self.finished >= exercises else "en cours"


@dataclass(frozen=True)
class ExerciseStats:
    """How the class did on one exercise of the séance (last finished run of each pupil)."""

    position: int
    title: str
    finished: int
    success: float | None
    median_seconds: float | None


@dataclass(frozen=True)
class WrongAnswer:
    """A wrong answer and how often it was given."""

    exercise: str
    question: str
    expected: str
    given: str
    count: int


@dataclass(frozen=True)
class FollowUp:
    """A séance's results for a class: pupils, exercises and frequent wrong answers."""

    seance: SeanceRecord
    exercise_titles: tuple[str, ...]
    pupils: tuple[PupilProgress, ...]
    exercises: tuple[ExerciseStats, ...]
    wrong_answers: tuple[WrongAnswer, ...]
    rows: tuple[dict[str, Any], ...] = field(default=())

    @property
    def started(self) -> int:
        """How many pupils have started the séance."""
        return sum(1 for pupil in self.pupils if pupil.started)

    @property
    def finished(self) -> int:
        """How many pupils have finished every exercise."""
        return sum(1 for pupil in self.pupils if pupil.finished >= len(self.exercise_titles))


def follow_up(store, bank: Bank, seance: SeanceRecord, classroom_id: int) -> FollowUp:
    """Compute a séance's results for a class, from the attempts and answers in the store."""
    titles = _exercise_titles(bank, seance)
    pupils, attempts, answers = _read_results(store, seance.id, classroom_id)
    last_finished = _last_finished_attempts(attempts)
    progress = tuple(_pupil_progress(pupil, attempts, last_finished, titles) for pupil in pupils)
    exercises = tuple(
        _exercise_stats(position, title, last_finished) for position, title in enumerate(titles)
    )
    wrong = _frequent_wrong_answers(answers, attempts, titles)
    rows = tuple(_csv_rows(pupils, last_finished, titles))
    return FollowUp(seance, titles, progress, exercises, wrong, rows)


def _exercise_titles(bank: Bank, seance: SeanceRecord) -> tuple[str, ...]:
    titles = []
    for item in items_of(seance.definition):
        exercise = bank.exercises.get(item.exercise_id)
        titles.append(exercise.title if exercise is not None else item.exercise_id)
    return tuple(titles)


def _read_results(store, seance_id: int, classroom_id: int):
    with Session(store.engine) as session:
        pupils = list(
            session.scalars(
                select(Pupil).where(Pupil.classroom_id == classroom_id).order_by(Pupil.id)
            )
        )
        attempts = list(
            session.scalars(
                select(Attempt)
                .where(Attempt.seance_id == seance_id)
                .order_by(Attempt.started_at, Attempt.id)
            )
        )
        answers = list(
            session.scalars(
                select(Answer)
                .join(Attempt, Answer.attempt_id == Attempt.id)
                .where(Attempt.seance_id == seance_id)
            )
        )
        session.expunge_all()
    return pupils, attempts, answers


def _last_finished_attempts(attempts: Sequence[Attempt]) -> dict[tuple[int, int], Attempt]:
    last: dict[tuple[int, int], Attempt] = {}
    for attempt in attempts:
        if attempt.finished_at is not None:
            last[(attempt.pupil_id, attempt.position)] = attempt
    return last


def _pupil_progress(pupil, attempts, last_finished, titles) -> PupilProgress:
    started = {a.position for a in attempts if a.pupil_id == pupil.id}
    finished = [a for (pid, _), a in last_finished.items() if pid == pupil.id]
    score = sum(a.score or 0 for a in finished)
    total = sum(a.total for a in finished)
    return PupilProgress(pupil.display_name, len(started), len(finished), score, total)


def _exercise_stats(position: int, title: str, last_finished) -> ExerciseStats:
    runs = [a for (_, pos), a in last_finished.items() if pos == position]
    if not runs:
        return ExerciseStats(position, title, 0, None, None)
    success = sum(a.score or 0 for a in runs) / sum(a.total for a in runs)
    median = statistics.median((a.duration_ms or 0) / 1000 for a in runs)
    return ExerciseStats(position, title, len(runs), success, median)


def _frequent_wrong_answers(answers, attempts, titles, limit: int = 10) -> tuple[WrongAnswer, ...]:
    position_of = {attempt.id: attempt.position for attempt in attempts}
    counted: Counter = Counter()
    for answer in answers:
        if answer.outcome != "wrong":
            continue
        given = answer.read_as or (answer.typed or "")
        key = (position_of[answer.attempt_id], answer.question_shown, answer.expected, given)
        counted[key] += 1
    return tuple(
        WrongAnswer(_title(titles, position), question, expected, given, count)
        for (position, question, expected, given), count in counted.most_common(limit)
    )


def _title(titles: Sequence[str], position: int) -> str:
    return titles[position] if position < len(titles) else f"exercice {position + 1}"


def _csv_rows(pupils, last_finished, titles) -> Iterable[dict[str, Any]]:
    for pupil in pupils:
        for position, title in enumerate(titles):
            attempt = last_finished.get((pupil.id, position))
            yield {
                "élève": pupil.display_name,
                "exercice": position + 1,
                "titre": title,
                "score": "" if attempt is None else attempt.score,
                "sur": "" if attempt is None else attempt.total,
                "durée (s)": ""
                if attempt is None
                else f"{(attempt.duration_ms or 0) / 1000:.1f}".replace(".", ","),
            }


def follow_up_csv(results: FollowUp) -> str:
    """The follow-up as CSV for a French spreadsheet: semicolons, decimal commas."""
    buffer = io.StringIO()
    columns = ["élève", "exercice", "titre", "score", "sur", "durée (s)"]
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=";")
    writer.writeheader()
    writer.writerows(results.rows)
    return buffer.getvalue()


# The teacher's desk: what a signed-in teacher may do.


class TeacherDesk:
    """What one signed-in teacher may see and do: their own classes only.

    Parameters
    ----------
    store
        The results store.
    bank
        The exercise bank séances are made from.
    teacher
        The teacher, as :func:`authenticate` returned them.
    """

    def __init__(self, store, bank: Bank, teacher: TeacherRecord) -> None:
        self.store = store
        self.bank = bank
        self.teacher = teacher

    def classrooms(self) -> list[ClassroomRecord]:
        """The teacher's classes."""
        return classrooms_of(self.store, self.teacher.id)

    def classroom(self, classroom_id: int) -> ClassroomRecord:
        """One of the teacher's classes; :class:`TeacherError` for any other."""
        for room in self.classrooms():
            if room.id == classroom_id:
                return room
        log.warning("Teacher %s asked for class %s", self.teacher.login, classroom_id)
        raise TeacherError(NOT_YOUR_CLASS)

    def seances(self, classroom_id: int) -> list[SeanceRecord]:
        """The séances of one of the teacher's classes, newest first."""
        self.classroom(classroom_id)
        return list(reversed(self.store.seances_of(classroom_id)))

    def create_seance(self, classroom_id: int, title: str, items: Sequence[SeanceItem]) -> Seance:
        """Create a séance for one of the teacher's classes; French errors."""
        self.classroom(classroom_id)
        return create_seance(self.store, self.bank, title, items, classroom_id)

    def follow_up(self, classroom_id: int, seance_id: int) -> FollowUp:
        """The results of a séance of one of the teacher's classes."""
        self.classroom(classroom_id)
        for seance in self.store.seances_of(classroom_id):
            if seance.id == seance_id:
                return follow_up(self.store, self.bank, seance, classroom_id)
        raise TeacherError("Cette séance n'est pas celle de cette classe.")


# Printable sheet and downloads.


def seance_sheet_html(seance: Seance, classroom: ClassroomRecord) -> str:
    """A printable page for the class: the séance's title, its code and its exercises."""
    exercises = "".join(f"<li>{html.escape(exercise.title)}</li>" for exercise in seance.exercises)
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>Séance {html.escape(format_code(seance.code))}</title></head>"
        '<body style="font-family:sans-serif">'
        f"<h1>{html.escape(seance.title)}</h1>"
        f"<p>Classe{NNBSP}: {html.escape(classroom.name)}</p>"
        f'<p style="font-size:200%">Code{NNBSP}: '
        f"<b>{html.escape(format_code(seance.code))}</b></p>"
        "<p>Ouvre la page de calcul@TICE, écris ce code et ton prénom.</p>"
        f"<ol>{exercises}</ol></body></html>"
    )


def download_link(text: str, filename: str, mime: str, label: str) -> str:
    """An HTML link that downloads ``text`` as a file, with no request to the server."""
    payload = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return (
        f'<a download="{html.escape(filename)}" href="data:{mime};charset=utf-8;base64,'
        f'{payload}" style="color:#1565c0;text-decoration:underline">{html.escape(label)}</a>'
    )


def percent(value: float | None) -> str:
    """``73 %`` with a narrow no-break space, or a dash."""
    return "—" if value is None else f"{round(100 * value)}{NNBSP}%"


def seconds_text(value: float | None) -> str:
    """``12,5 s``, or a dash."""
    return "—" if value is None else f"{value:.1f}".replace(".", ",") + f"{NNBSP}s"


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An HTML table whose every cell is escaped: a pupil's name is never markup."""
    cell = 'style="padding:2px 10px;border-bottom:1px solid #ddd;text-align:left"'
    head = "".join(f"<th {cell}>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td {cell}>{html.escape(str(value))}</td>" for value in row) + "</tr>"
        for row in rows
    )
    style = "border-collapse:collapse"
    return f'<table class="calculatice-table" style="{style}"><tr>{head}</tr>{body}</table>'


def scores_figure(results: FollowUp):
    """Each pupil's score in the séance, as a bar chart (names escaped for plotly)."""
    import plotly.graph_objects as go

    names = [html.escape(pupil.name) for pupil in results.pupils]
    figure = go.Figure(
        go.Bar(
            x=names,
            y=[pupil.score for pupil in results.pupils],
            text=[f"{p.score}/{p.total}" if p.total else "" for p in results.pupils],
        )
    )
    figure.update_layout(
        title="Score de chaque élève",
        height=320,
        margin={"l": 40, "r": 10, "t": 40, "b": 80},
        yaxis_title="bonnes réponses",
        xaxis_type="category",
        # Scores are whole numbers: no tick at 0,5.
        yaxis_dtick=max(1, math.ceil(max((p.total for p in results.pupils), default=1) / 10)),
        yaxis_rangemode="tozero",
    )
    return figure


def exercise_items(bank: Bank, items: Sequence[SeanceItem]) -> list[Exercise]:
    """The bank exercises of a séance's items (unknown ids raise a French error)."""
    return [bank.get(item.exercise_id) for item in items]


# The page.


class TeacherPage:
    """The teacher page: sign in, then compose séances and follow a class.

    Parameters
    ----------
    store_factory
        Opens the results store, at the first sign-in attempt.
    bank_loader
        Loads the exercise bank, once signed in.
    sign_in_delay
        Seconds to wait after a refused sign-in (see :data:`SIGN_IN_DELAY_SECONDS`).

    Notes
    -----
    Nothing of a class is built before a teacher signs in: the page holds a
    sign-in form only. Every callback catches its errors and shows a French
    message; names are shown as text, never as markup.
    """

    def __init__(
        self,
        store_factory: Callable[[], Any] | None = None,
        bank_loader: Callable[[], Bank] = load_bank,
        sign_in_delay: float = SIGN_IN_DELAY_SECONDS,
    ) -> None:
        import ipywidgets as widgets

        self._widgets = widgets
        self._store_factory = store_factory or _connect_store
        self._bank_loader = bank_loader
        self._delay = sign_in_delay
        self._store = None
        self.desk: TeacherDesk | None = None
        self.items: list[SeanceItem] = []
        self.results: FollowUp | None = None
        self.created: Seance | None = None

        self.login = widgets.Text(description="Identifiant", layout=widgets.Layout(width="24em"))
        self.password = widgets.Password(
            description="Mot de passe", layout=widgets.Layout(width="24em")
        )
        self.sign_in_button = widgets.Button(description="Se connecter", button_style="primary")
        self.sign_in_message = widgets.Label()
        self.sign_in_button.on_click(lambda _b: self._safely(self.sign_in, self.sign_in_message))
        self.password.continuous_update = False
        self.widget = widgets.VBox(
            [
                widgets.HTML("<h2>calcul@TICE — espace enseignant</h2>"),
                self.login,
                self.password,
                self.sign_in_button,
                self.sign_in_message,
            ],
            layout=widgets.Layout(padding="1em"),
        )

    # Signing in.

    def sign_in(self) -> bool:
        """Check the login and password typed; on success show the teacher's desk."""
        login, password = self.login.value, self.password.value
        self.password.value = ""
        if self._store is None:
            self._store = self._store_factory()
        teacher = authenticate(self._store, login, password) if login and password else None
        if teacher is None:
            time.sleep(self._delay)
            self.sign_in_message.value = WRONG_SIGN_IN
            return False
        self.desk = TeacherDesk(self._store, self._bank_loader(), teacher)
        self.widget.children = [self._desk_view()]
        return True

    def _desk_view(self):
        widgets = self._widgets
        assert self.desk is not None
        rooms = self.desk.classrooms()
        self.greeting = widgets.Label(f"Bonjour {self.desk.teacher.display_name}.")
        if not rooms:
            return widgets.VBox(
                [
                    self.greeting,
                    widgets.Label(
                        f"Aucune classe ne vous est attribuée{NNBSP}: demandez-la à la "
                        "personne qui gère le serveur."
                    ),
                ]
            )
        self.class_picker = widgets.Dropdown(
            options=[(f"{room.name} ({room.level})", room.id) for room in rooms],
            description="Classe",
        )
        self.class_picker.observe(lambda _c: self._safely(self._class_changed), names="value")
        tabs = widgets.Tab(children=[self._compose_view(), self._follow_view()])
        tabs.set_title(0, "Composer une séance")
        tabs.set_title(1, "Suivre la classe")
        self._class_changed()
        return widgets.VBox([self.greeting, self.class_picker, tabs])

    @property
    def classroom_id(self) -> int:
        """The class chosen in the drop-down."""
        return int(self.class_picker.value)

    def _class_changed(self) -> None:
        room = self.desk.classroom(self.classroom_id)
        self.search_level.value = room.level
        self.search()
        self._refresh_seances()

    # Composing a séance.

    def _compose_view(self):
        from calculatice.catalogue import LEVELS, THEMES

        widgets = self._widgets
        self.search_level = widgets.Dropdown(
            options=[("tous", "")] + [(level, level) for level in LEVELS], description="Niveau"
        )
        self.search_theme = widgets.Dropdown(
            options=[("tous", "")] + [(name, key) for key, name in THEMES.items()],
            description="Thème",
        )
        self.search_words = widgets.Text(description="Mots", placeholder="tables, moitié…")
        self.search_button = widgets.Button(description="Chercher")
        self.found = widgets.Select(options=[], rows=8, layout=widgets.Layout(width="40em"))
        self.add_button = widgets.Button(description="Ajouter", icon="plus")
        self.chosen = widgets.Select(options=[], rows=6, layout=widgets.Layout(width="40em"))
        self.up_button = widgets.Button(description="Monter", icon="arrow-up")
        self.down_button = widgets.Button(description="Descendre", icon="arrow-down")
        self.remove_button = widgets.Button(description="Retirer", icon="trash")
        self.options_button = widgets.Button(description="Options…")
        self.options_box = widgets.VBox()
        self.seance_title = widgets.Text(description="Titre", value="Séance")
        self.create_button = widgets.Button(description="Créer la séance", button_style="success")
        self.created_html = widgets.HTML()
        self.compose_message = widgets.Label()
        # Classes for browser tests and for a stylesheet.
        self.found.add_class("calculatice-found")
        self.chosen.add_class("calculatice-chosen")

        message = self.compose_message
        self.search_button.on_click(lambda _b: self._safely(self.search, message))
        self.add_button.on_click(lambda _b: self._safely(self.add_chosen, message))
        self.up_button.on_click(lambda _b: self._safely(lambda: self.move(-1), message))
        self.down_button.on_click(lambda _b: self._safely(lambda: self.move(1), message))
        self.remove_button.on_click(lambda _b: self._safely(self.remove, message))
        self.options_button.on_click(lambda _b: self._safely(self.edit_options, message))
        self.create_button.on_click(lambda _b: self._safely(self.create, message))
        return widgets.VBox(
            [
                widgets.HTML("<b>Chercher dans la banque</b>"),
                widgets.HBox([self.search_level, self.search_theme]),
                widgets.HBox([self.search_words, self.search_button]),
                self.found,
                self.add_button,
                widgets.HTML("<b>La séance</b>"),
                self.chosen,
                widgets.HBox(
                    [self.up_button, self.down_button, self.remove_button, self.options_button]
                ),
                self.options_box,
                self.seance_title,
                self.create_button,
                self.compose_message,
                self.created_html,
            ]
        )

    def search(self) -> list[Exercise]:
        """Fill the list of exercises found with the level, theme and words chosen."""
        found = self.desk.bank.select(
            levels=[self.search_level.value] if self.search_level.value else [],
            themes=[self.search_theme.value] if self.search_theme.value else [],
            words=self.search_words.value,
        )
        self.found.options = [
            (f"{exercise.title} — {', '.join(exercise.levels)}", exercise.id) for exercise in found
        ]
        found_text = count_of(len(found), "exercice trouvé", "exercices trouvés")
        self.compose_message.value = f"{found_text}."
        return found

    def add_chosen(self) -> None:
        """Add the exercise selected in the search results at the end of the séance."""
        if not self.found.value:
            self.compose_message.value = "Choisir d'abord un exercice dans la liste."
            return
        self.items.append(SeanceItem(self.found.value))
        self._show_items(len(self.items) - 1)

    def move(self, step: int) -> None:
        """Move the selected exercise of the séance up (-1) or down (+1)."""
        index = self._selected_item()
        target = index + step
        if not 0 <= target < len(self.items):
            return
        self.items[index], self.items[target] = self.items[target], self.items[index]
        self._show_items(target)

    def remove(self) -> None:
        """Remove the selected exercise from the séance."""
        index = self._selected_item()
        del self.items[index]
        self.options_box.children = []
        self._show_items(min(index, len(self.items) - 1))

    def edit_options(self):
        """Show the option form of the selected exercise, filled with its values."""
        from calculatice.workshop import OptionsForm

        index = self._selected_item()
        item = self.items[index]
        exercise = self.desk.bank.get(item.exercise_id)
        if not exercise.common.adjustable:
            self.compose_message.value = (
                "Les options de cet exercice ne peuvent pas être changées."
            )
            return None
        base = exercise.option_values()
        form = OptionsForm(exercise.engine_object(), {**base, **item.overrides})
        apply_button = self._widgets.Button(description="Appliquer")

        def apply() -> None:
            problems = form.check()
            if problems:
                self.compose_message.value = "Corriger les options en rouge."
                return
            self.items[index] = SeanceItem(item.exercise_id, form.changed_values(base))
            self.options_box.children = []
            self._show_items(index)
            self.compose_message.value = "Options appliquées."

        apply_button.on_click(lambda _b: self._safely(apply, self.compose_message))
        self.options_box.children = [form.widget, apply_button]
        self.option_form = form
        self.apply_button = apply_button
        return form

    def create(self) -> Seance:
        """Create the séance for the chosen class and show its code and printable sheet."""
        seance = self.desk.create_seance(self.classroom_id, self.seance_title.value, self.items)
        room = self.desk.classroom(self.classroom_id)
        code = format_code(seance.code)
        sheet = download_link(
            seance_sheet_html(seance, room),
            f"seance-{code}.html",
            "text/html",
            "Fiche à imprimer pour la classe",
        )
        self.created_html.value = (
            f'<p>Code de la séance{NNBSP}: <b style="font-size:200%" class="seance-code">'
            f"{html.escape(code)}</b></p><p>{sheet}</p>"
        )
        self.compose_message.value = f"Séance « {seance.title} » créée."
        self.created = seance
        self.items = []
        self._show_items(-1)
        self._refresh_seances()
        return seance

    def _selected_item(self) -> int:
        if self.chosen.index is None:
            raise TeacherError("Choisir d'abord un exercice de la séance.")
        return int(self.chosen.index)

    def _show_items(self, selected: int) -> None:
        labels = []
        for position, item in enumerate(self.items, start=1):
            title = self.desk.bank.get(item.exercise_id).title
            changed = (
                f" ({count_of(len(item.overrides), 'option changée', 'options changées')})"
                if item.overrides
                else ""
            )
            labels.append(f"{position}. {title}{changed}")
        self.chosen.options = [(label, i) for i, label in enumerate(labels)]
        self.chosen.index = selected if 0 <= selected < len(labels) else None

    # Following the class.

    def _follow_view(self):
        widgets = self._widgets
        self.seance_picker = widgets.Dropdown(description="Séance", options=[])
        self.refresh_button = widgets.Button(description="Rafraîchir", icon="refresh")
        self.follow_summary = widgets.Label()
        self.pupils_html = widgets.HTML()
        self.chart_box = widgets.VBox()
        self.exercises_html = widgets.HTML()
        self.wrong_html = widgets.HTML()
        self.csv_html = widgets.HTML()
        message = self.follow_summary
        self.refresh_button.on_click(lambda _b: self._safely(self.refresh, message))
        self.seance_picker.observe(lambda _c: self._safely(self.refresh, message), names="value")
        return widgets.VBox(
            [
                widgets.HBox([self.seance_picker, self.refresh_button]),
                self.follow_summary,
                widgets.HTML("<b>Les élèves</b>"),
                self.pupils_html,
                self.chart_box,
                widgets.HTML("<b>Les exercices</b>"),
                self.exercises_html,
                widgets.HTML("<b>Les erreurs les plus fréquentes</b>"),
                self.wrong_html,
                self.csv_html,
            ]
        )

    def _refresh_seances(self) -> None:
        seances = self.desk.seances(self.classroom_id)
        self.seance_picker.options = [
            (f"{seance.title} ({format_code(seance.code)})", seance.id) for seance in seances
        ]
        # The newest séance is the one a teacher follows first.
        self.seance_picker.value = seances[0].id if seances else None
        self.refresh()

    def refresh(self) -> FollowUp | None:
        """Read the chosen séance's results again and redraw the tables and the chart."""
        if self.seance_picker.value is None:
            self.follow_summary.value = "Aucune séance pour cette classe."
            self._clear_follow_up()
            return None
        results = self.desk.follow_up(self.classroom_id, self.seance_picker.value)
        self.results = results
        count = len(results.exercise_titles)
        self.follow_summary.value = (
            f"{count_of(len(results.pupils), 'élève', 'élèves')} dans la classe"
            f"{NNBSP}: {count_of(results.started, 'a commencé', 'ont commencé')}, "
            f"{count_of(results.finished, 'a terminé', 'ont terminé')}."
        )
        self.pupils_html.value = html_table(
            ["Élève", "État", "Exercices terminés", "Score"],
            [
                (p.name, p.status(count), f"{p.finished}/{count}", f"{p.score}/{p.total}")
                for p in results.pupils
            ],
        )
        # An empty chart says nothing: it appears with the first pupil.
        has_pupils = bool(results.pupils)
        self.chart_box.children = [_figure_widget(scores_figure(results))] if has_pupils else []
        self.exercises_html.value = html_table(
            ["n°", "Exercice", "Élèves ayant fini", "Réussite", "Temps médian"],
            [
                (
                    s.position + 1,
                    s.title,
                    s.finished,
                    percent(s.success),
                    seconds_text(s.median_seconds),
                )
                for s in results.exercises
            ],
        )
        self.wrong_html.value = (
            html_table(
                ["Exercice", "Question", "Attendu", "Réponse donnée", "Fois"],
                [
                    (w.exercise, w.question, w.expected, w.given, w.count)
                    for w in results.wrong_answers
                ],
            )
            if results.wrong_answers
            else "Aucune erreur pour l'instant."
        )
        code = format_code(results.seance.code)
        self.csv_html.value = download_link(
            follow_up_csv(results), f"resultats-{code}.csv", "text/csv", "Télécharger en CSV"
        )
        return results

    def _clear_follow_up(self) -> None:
        for view in (self.pupils_html, self.exercises_html, self.wrong_html, self.csv_html):
            view.value = ""
        self.chart_box.children = []

    def _safely(self, action: Callable[[], Any], message=None) -> None:
        # Exceptions in widget callbacks are invisible in Voilà: show a French message.
        target = message if message is not None else self.sign_in_message
        try:
            action()
        except CalculaticeError as error:
            target.value = str(error)
        except Exception:
            log.exception("The teacher page failed")
            target.value = f"Un problème est survenu{NNBSP}: rechargez la page."


def _figure_widget(figure):
    import plotly.graph_objects as go

    return go.FigureWidget(figure)


def _connect_store():
    from calculatice.store import connect_store

    return connect_store()


def teacher_page():
    """The teacher page's widget, for ``dashboards/enseignant.ipynb``."""
    logging.basicConfig(level=logging.WARNING)
    return TeacherPage().widget
