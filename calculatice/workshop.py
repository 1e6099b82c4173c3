"""The authoring workshop: design an exercise with widgets, see its questions, save it.

Everything a designer's notebook shows is built here; ``notebooks/atelier.ipynb``
only calls :func:`workshop`. The option form is generated from the engine's
pydantic JSON schema and :class:`~calculatice.options.CommonOptions`, so an
option's type, range, French label and help are written once, in its
declaration.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from calculatice.catalogue import (
    LEVELS,
    THEMES,
    Bank,
    Exercise,
    default_bank_folder,
    load_bank,
    new_exercise,
    write_exercise,
)
from calculatice.engines.base import Engine, Question, all_engines, get_engine
from calculatice.errors import CalculaticeError, NumberSetError, OptionsError
from calculatice.numbers import parse_number_set, write_number
from calculatice.options import COMMON_OPTION_NAMES, CommonOptions, validate_options

log = logging.getLogger(__name__)

NNBSP = "\u202f"
SLIDER_MAX_SPAN = 200
"""Integer options with a wider range get a number box: a slider would be too coarse."""
SAMPLE_SIZE = 60
"""Questions drawn to chart what makes an exercise hard."""
CHARTS_MAX = 6

VALUE_LABELS = {
    "any": "au hasard",
    "both": "les deux",
    "mixed": "mélangé",
    "result": "le résultat",
    "left": "le premier terme",
    "right": "le second terme",
    "add": "ajouter",
    "subtract": "retrancher",
    "multiply": "multiplier",
    "divide": "diviser",
    "with": "avec",
    "without": "sans",
    "never": "jamais",
    "sometimes": "parfois",
    "always": "toujours",
    "none": "aucun",
    "double": "double",
    "half": "moitié",
    "forward": "en avançant",
    "backward": "en reculant",
    "ten": "dizaine",
    "hundred": "centaine",
    "thousand": "millier",
    "one": "unité",
    "tenth": "dixième",
    "hundredth": "centième",
    "sum": "somme",
    "product": "produit",
    "words": "en lettres",
    "symbols": "en chiffres",
}
"""French words for the enumerated option values that several engines share.

A value missing here is shown as its key; an engine may word its help so
that the key reads clearly.
"""

FEATURE_LABELS = {
    "answer_digits": "Chiffres de la réponse",
    "carries": "Retenues",
    "borrows": "Retenues (soustraction)",
    "table": "Table",
    "factor": "Autre facteur",
    "missing": "Terme caché",
    "digits": "Chiffres",
    "decimals": "Décimales",
    "answer_decimals": "Décimales de la réponse",
    "strategy": "Stratégie",
    "operation": "Opération",
    "variant": "Variante",
    "mode": "Mode",
    "terms": "Termes",
    "sum": "Somme",
    "difference": "Différence",
    "product": "Produit",
    "quotient": "Quotient",
    "power": "Puissance de 10",
    "denominator": "Dénominateur",
    "percent": "Pourcentage",
    "direction": "Sens",
    "order": "Rang",
    "zeros": "Zéros",
    "left_digits": "Chiffres du premier nombre",
    "right_digits": "Chiffres du second nombre",
    "result_digits": "Chiffres du résultat",
}
"""French titles of the question features charted in the preview; others show their key."""

# Features read first when choosing what to chart: they say most about difficulty.
_FEATURE_PRIORITY = (
    "answer_digits",
    "carries",
    "borrows",
    "table",
    "missing",
    "digits",
    "decimals",
    "answer_decimals",
    "strategy",
    "operation",
)
# Features that count something hard: the preview says how many questions have any.
_COUNTED = {"carries": "au moins une retenue", "borrows": "au moins une retenue"}


# The option form.


def option_schemas(engine: Engine, *, common: bool = True) -> dict[str, dict[str, Any]]:
    """The JSON schema of each option of an engine, then of the common options.

    Parameters
    ----------
    engine
        The engine whose ``Options`` model is read.
    common
        Whether the options every exercise has come after the engine's own.

    Returns
    -------
    dict
        Option name to its JSON schema property (type, bounds, ``title``,
        ``description``, ``default``, ``enum`` or ``format``).
    """
    schemas = dict(engine.Options.model_json_schema().get("properties", {}))
    if common:
        schemas.update(CommonOptions.model_json_schema()["properties"])
    return schemas


def option_widget(name: str, schema: Mapping[str, Any]) -> widgets.ValueWidget:
    """The input widget for one option, from its JSON schema, labelled in French.

    Integer ranges give a slider (a number box past :data:`SLIDER_MAX_SPAN`
    values), booleans a checkbox, enumerations a drop-down and number sets a
    text box. The label is the option's ``title``; its help is the tooltip.
    """
    label = schema.get("title", name)
    common = {
        "description": label,
        "tooltip": schema.get("description", ""),
        "style": {"description_width": "17em"},
        "layout": widgets.Layout(width="38em"),
    }
    default = schema.get("default")
    kind = schema.get("type")
    if "enum" in schema:
        choices = [(VALUE_LABELS.get(value, str(value)), value) for value in schema["enum"]]
        return widgets.Dropdown(options=choices, value=default, **common)
    if kind == "boolean":
        return widgets.Checkbox(value=bool(default), indent=True, **common)
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None and high - low <= SLIDER_MAX_SPAN:
            return widgets.IntSlider(
                value=default, min=low, max=high, continuous_update=False, **common
            )
        if low is not None and high is not None:
            return widgets.BoundedIntText(value=default, min=low, max=high, **common)
        return widgets.IntText(value=default or 0, **common)
    if kind == "number":
        return widgets.FloatText(value=default or 0.0, **common)
    return widgets.Text(value="" if default is None else str(default), **common)


def number_set_problem(text: str, schema: Mapping[str, Any]) -> str | None:
    """The French reason a number set is refused, or ``None`` when it is fine.

    The syntax is read by :func:`~calculatice.numbers.parse_number_set`; the
    bounds come from the option's schema.
    """
    try:
        numbers = parse_number_set(text)
    except NumberSetError as error:
        return str(error)
    low, high = schema.get("minimum"), schema.get("maximum")
    outside = (
        [number for number in numbers if not low <= number <= high] if low is not None else []
    )
    if outside:
        return (
            f"Les nombres doivent être entre {write_number(low)} et {write_number(high)} "
            f"({write_number(outside[0])} ne l'est pas)."
        )
    return None


@dataclass
class OptionField:
    """One option of the form: its schema, its input and the message beside it."""

    name: str
    schema: dict[str, Any]
    input: widgets.ValueWidget
    message: widgets.HTML
    box: widgets.Box

    @property
    def is_number_set(self) -> bool:
        """Whether the option is a number set such as ``2-9`` (checked as it is typed)."""
        return self.schema.get("format") == "number-set"


class OptionsForm:
    """The form of an engine's options and the common ones, with French messages.

    Parameters
    ----------
    engine
        The engine whose options are asked.
    values
        Option values to start from (an exercise's :meth:`Exercise.option_values`);
        missing ones take their defaults.
    common
        Whether the common options (questions, attempts, times…) are in the form.
    """

    def __init__(
        self,
        engine: Engine,
        values: Mapping[str, Any] | None = None,
        *,
        common: bool = True,
    ) -> None:
        self.engine = engine
        self.fields: dict[str, OptionField] = {}
        for name, schema in option_schemas(engine, common=common).items():
            self.fields[name] = self._field(name, schema)
        self.summary = widgets.HTML()
        engine_boxes = [f.box for n, f in self.fields.items() if n not in COMMON_OPTION_NAMES]
        common_boxes = [f.box for n, f in self.fields.items() if n in COMMON_OPTION_NAMES]
        sections = [widgets.HTML(f"<b>{html.escape(engine.title)}</b>"), *engine_boxes]
        if common_boxes:
            sections += [widgets.HTML("<b>Déroulement</b>"), *common_boxes]
        self.widget = widgets.VBox([*sections, self.summary])
        if values:
            self.fill(values)
        self.check()

    def _field(self, name: str, schema: dict[str, Any]) -> OptionField:
        field_input = option_widget(name, schema)
        message = widgets.HTML()
        help_text = widgets.HTML(
            f'<span style="color:#555;font-size:85%">{html.escape(schema.get("description", ""))}'
            "</span>"
        )
        box = widgets.VBox([widgets.HBox([field_input, message]), help_text])
        # A class per option, for browser tests and stylesheets.
        box.add_class(f"calculatice-option-{name}")
        field = OptionField(name, schema, field_input, message, box)
        if field.is_number_set:
            field_input.continuous_update = True
        field_input.observe(lambda _change: self.check(), names="value")
        return field

    def values(self) -> dict[str, Any]:
        """The option values as the widgets hold them (number sets as typed)."""
        return {name: field.input.value for name, field in self.fields.items()}

    def fill(self, values: Mapping[str, Any]) -> None:
        """Put option values into the widgets; unknown names are ignored, with a log line."""
        for name, value in values.items():
            field = self.fields.get(name)
            if field is None:
                log.warning("Option %s is not in the form of %s", name, self.engine.name)
                continue
            field.input.value = str(value) if field.is_number_set else value

    def problems(self) -> dict[str, str]:
        """French reasons by option name; ``""`` names a problem of the options together."""
        found: dict[str, str] = {}
        for name, field in self.fields.items():
            if field.is_number_set:
                problem = number_set_problem(field.input.value, field.schema)
                if problem:
                    found[name] = problem
        if found:
            return found
        try:
            self.validated()
        except OptionsError as error:
            for name, reason in error.problems:
                key = name.split(".")[0]
                found[key if key in self.fields else ""] = reason
        return found

    def check(self) -> dict[str, str]:
        """Show each problem beside its field, and return them (see :meth:`problems`)."""
        found = self.problems()
        for name, field in self.fields.items():
            field.message.value = _error_html(found.get(name, ""))
        self.summary.value = _error_html(found.get("", ""))
        return found

    def validated(self) -> tuple[Any, CommonOptions]:
        """The engine's options and the common ones, validated; :class:`OptionsError` if not."""
        values = self.values()
        engine_values = {k: v for k, v in values.items() if k not in COMMON_OPTION_NAMES}
        common_values = {k: v for k, v in values.items() if k in COMMON_OPTION_NAMES}
        problems: list[tuple[str, str]] = []
        options = common = None
        try:
            options = self.engine.options(engine_values)
        except OptionsError as error:
            problems.extend(error.problems)
        try:
            common = validate_options(CommonOptions, common_values)
        except OptionsError as error:
            problems.extend(error.problems)
        if problems:
            raise OptionsError("\n".join(f"{n} : {r}" for n, r in problems), problems)
        return options, common

    def changed_values(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """The values that differ from ``base`` (a séance's overrides of an exercise)."""
        return {name: value for name, value in self.values().items() if base.get(name) != value}

    def observe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change of any option."""
        for field in self.fields.values():
            field.input.observe(lambda _change: callback(), names="value")


def _error_html(reason: str) -> str:
    if not reason:
        return ""
    return f'<span style="color:#b00020">{html.escape(reason)}</span>'


# The preview.


@dataclass(frozen=True)
class Preview:
    """A sample of an exercise's questions and what makes them hard.

    ``questions`` is one run of the exercise (its number of questions);
    ``sample`` is a larger draw, from which :attr:`features` are counted.
    """

    questions: tuple[Question, ...]
    sample: tuple[Question, ...]

    @property
    def rows(self) -> list[dict[str, str]]:
        """One row per question of the run: the prompt and the expected answer."""
        return [
            {"question": _question_text(question), "réponse": question.solution}
            for question in self.questions
        ]

    @property
    def features(self) -> dict[str, Counter]:
        """For each feature of the sample, how many questions have each value."""
        counted: dict[str, Counter] = {}
        for question in self.sample:
            for name, value in question.features.items():
                counted.setdefault(name, Counter())[value] += 1
        return counted

    def charted_features(self, limit: int = CHARTS_MAX) -> list[str]:
        """The features worth a chart: those that vary, the telling ones first."""
        varying = [name for name, counts in self.features.items() if len(counts) > 1]
        ranked = sorted(
            varying,
            key=lambda name: (
                _FEATURE_PRIORITY.index(name) if name in _FEATURE_PRIORITY else 99,
                name,
            ),
        )
        return ranked[:limit]

    def highlights(self) -> list[str]:
        """French sentences about the sample, such as « 48 % des questions ont une retenue »."""
        sentences = []
        total = len(self.sample)
        for name, wording in _COUNTED.items():
            counts = self.features.get(name)
            if counts is None or not total:
                continue
            with_some = sum(count for value, count in counts.items() if value)
            share = round(100 * with_some / total)
            sentences.append(f"{share}{NNBSP}% des questions demandent {wording}.")
        digits = self.features.get("answer_digits")
        if digits:
            low, high = min(digits), max(digits)
            sentences.append(f"Réponses de {low} à {high} chiffres.")
        return sentences


def _question_text(question: Question) -> str:
    text = question.prompt
    if question.flash_text:
        text = f"{text} ({question.flash_text})"
    if question.choices:
        text = f"{text} [{' | '.join(question.choices)}]"
    return text


def draw_preview(
    engine: Engine, options: Any, common: CommonOptions, seed: int | str = 0
) -> Preview:
    """Draw one run of the exercise and a larger sample, with the same seed each time.

    Raises :class:`~calculatice.errors.GenerationError` when the options allow
    no question.
    """
    questions = engine.questions(options, common.questions, seed)
    sample = engine.questions(options, SAMPLE_SIZE, f"{seed}/sample")
    return Preview(tuple(questions), tuple(sample))


def feature_figure(name: str, counts: Counter):
    """A bar chart of how many sampled questions have each value of one feature."""
    import plotly.graph_objects as go

    values = sorted(counts, key=lambda value: (isinstance(value, str), value))
    labels = [VALUE_LABELS.get(v, str(v)) if isinstance(v, str) else _number(v) for v in values]
    figure = go.Figure(go.Bar(x=labels, y=[counts[value] for value in values]))
    figure.update_layout(
        title=FEATURE_LABELS.get(name, name),
        width=320,
        height=240,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        yaxis_title="questions",
        xaxis_type="category",
    )
    return figure


def _number(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return str(value).replace(".", ",")
    return write_number(int(value))


def preview_table_html(preview: Preview) -> str:
    """The run's questions and answers as an HTML table; every text is escaped."""
    cell = 'style="padding:1px 10px;text-align:left"'
    lines = [
        f"<tr><td {cell}>{index}</td><td {cell}>{html.escape(row['question'])}</td>"
        f"<td {cell}><b>{html.escape(row['réponse'])}</b></td></tr>"
        for index, row in enumerate(preview.rows, start=1)
    ]
    return (
        f'<table style="border-collapse:collapse"><tr><th {cell}>n°</th>'
        f"<th {cell}>Question</th><th {cell}>Réponse</th></tr>{''.join(lines)}</table>"
    )


# The whole workshop.


def engine_choices(engines: Mapping[str, Engine] | None = None) -> list[tuple[str, str]]:
    """Drop-down choices: each engine's French title (and key), sorted by title."""
    engines = engines if engines is not None else all_engines()
    return sorted(
        ((f"{engine.title} ({name})", name) for name, engine in engines.items()),
        key=lambda choice: choice[0].casefold(),
    )


class Workshop:
    """The designer's workbench: choose, tune, preview, test and save an exercise.

    Parameters
    ----------
    bank
        The bank to start from; loaded from ``bank_folder`` when ``None``.
    bank_folder
        Where exercises are saved; the default bank folder when ``None``.
    """

    def __init__(self, bank: Bank | None = None, bank_folder: Path | None = None) -> None:
        self.folder = Path(bank_folder) if bank_folder is not None else default_bank_folder()
        self.bank = bank if bank is not None else load_bank(self.folder)
        self.form: OptionsForm | None = None
        self.preview: Preview | None = None
        self.player = None

        self.engine_picker = widgets.Dropdown(
            options=engine_choices(), description="Moteur", style={"description_width": "8em"}
        )
        self.level_filter = widgets.Dropdown(
            options=[("tous", "")] + [(level, level) for level in LEVELS], description="Niveau"
        )
        self.theme_filter = widgets.Dropdown(
            options=[("tous", "")] + [(name, key) for key, name in THEMES.items()],
            description="Thème",
        )
        self.exercise_picker = widgets.Dropdown(description="Exercice", options=[])
        self.start_button = widgets.Button(description="Partir de cet exercice")

        self.exercise_id = widgets.Text(description="Identifiant", placeholder="ce1-tables-2-3")
        self.title = widgets.Text(description="Titre")
        self.levels = widgets.SelectMultiple(options=LEVELS, description="Niveaux", rows=6)
        self.theme = widgets.Dropdown(
            options=[(name, key) for key, name in THEMES.items()], description="Thème"
        )
        self.instructions = widgets.Textarea(description="Consigne")

        self.form_box = widgets.VBox()
        self.questions_html = widgets.HTML()
        self.highlights_html = widgets.HTML()
        self.charts = widgets.GridBox(
            layout=widgets.Layout(grid_template_columns="repeat(2, auto)")
        )
        self.test_button = widgets.Button(description="Tester", icon="play")
        self.player_box = widgets.VBox()
        self.replace = widgets.Checkbox(
            description="Remplacer l'exercice existant",
            value=False,
            indent=False,
            layout=widgets.Layout(width="auto", margin="0 0 0 1em"),
        )
        self.save_button = widgets.Button(description="Enregistrer", button_style="primary")
        self.message = widgets.HTML()

        self._filling = False
        self.engine_picker.observe(self._engine_picked, names="value")
        for picker in (self.level_filter, self.theme_filter):
            picker.observe(lambda _change: self._refresh_exercises(), names="value")
        self.start_button.on_click(lambda _button: self._safely(self._start_from_picked))
        self.test_button.on_click(lambda _button: self._safely(self.test))
        self.save_button.on_click(lambda _button: self._safely(self.save))

        self._refresh_exercises()
        self.choose_engine(self.engine_picker.value)
        self.widget = self._layout()

    def _layout(self) -> widgets.Widget:
        start = widgets.VBox(
            [
                widgets.HTML("<h3>1. Choisir un moteur, ou partir d'un exercice</h3>"),
                self.engine_picker,
                widgets.HBox([self.level_filter, self.theme_filter]),
                widgets.HBox([self.exercise_picker, self.start_button]),
            ]
        )
        describe = widgets.VBox(
            [
                widgets.HTML("<h3>2. Décrire l'exercice</h3>"),
                self.exercise_id,
                self.title,
                widgets.HBox([self.levels, self.theme]),
                self.instructions,
            ]
        )
        tune = widgets.HBox(
            [
                self.form_box,
                widgets.VBox(
                    [self.highlights_html, self.questions_html, self.charts],
                    layout=widgets.Layout(margin="0 0 0 2em"),
                ),
            ]
        )
        finish = widgets.VBox(
            [
                widgets.HTML("<h3>4. Essayer puis enregistrer</h3>"),
                self.test_button,
                self.player_box,
                widgets.HBox([self.save_button, self.replace]),
                self.message,
            ]
        )
        tune_title = widgets.HTML("<h3>3. Régler les options et regarder les questions</h3>")
        return widgets.VBox([start, describe, tune_title, tune, finish])

    def choose_engine(self, name: str, values: Mapping[str, Any] | None = None) -> None:
        """Show the option form of an engine (filled with ``values``) and its preview."""
        engine = get_engine(name)
        self.form = OptionsForm(engine, values)
        self.form.observe(lambda: self._safely(self.refresh_preview))
        self.form_box.children = [self.form.widget]
        self.player_box.children = []
        self.refresh_preview()

    def _engine_picked(self, change: dict) -> None:
        if not self._filling:
            self._safely(lambda: self.choose_engine(change["new"]))

    def _refresh_exercises(self) -> None:
        levels = [self.level_filter.value] if self.level_filter.value else []
        themes = [self.theme_filter.value] if self.theme_filter.value else []
        chosen = self.bank.select(levels=levels, themes=themes)
        self.exercise_picker.options = [
            (f"{exercise.title} ({', '.join(exercise.levels)})", exercise.id)
            for exercise in chosen
        ]

    def _start_from_picked(self) -> None:
        if self.exercise_picker.value:
            self.start_from(self.bank.get(self.exercise_picker.value))

    def start_from(self, exercise: Exercise) -> None:
        """Fill the workshop from a bank exercise: engine, options and description."""
        self.exercise_id.value = exercise.id
        self.title.value = exercise.title
        self.levels.value = tuple(exercise.levels)
        self.theme.value = exercise.theme
        self.instructions.value = exercise.instructions
        # Changing the picker would draw the default form first: the flag skips it.
        self._filling = True
        try:
            self.engine_picker.value = exercise.engine
        finally:
            self._filling = False
        self.choose_engine(exercise.engine, exercise.option_values())
        self.message.value = _info_html(
            f"Exercice « {exercise.title} » chargé{NNBSP}: changer l'identifiant pour en faire "
            "un nouveau."
        )

    def refresh_preview(self) -> Preview | None:
        """Draw the questions again from the current options; show why when it cannot."""
        assert self.form is not None
        if self.form.check():
            self.questions_html.value = _error_html(
                "Corriger les options en rouge pour voir les questions."
            )
            self.charts.children = []
            self.preview = None
            return None
        options, common = self.form.validated()
        try:
            self.preview = draw_preview(self.form.engine, options, common)
        except CalculaticeError as error:
            self.questions_html.value = _error_html(str(error))
            self.charts.children = []
            self.preview = None
            return None
        self.questions_html.value = preview_table_html(self.preview)
        self.highlights_html.value = "<br>".join(
            html.escape(sentence) for sentence in self.preview.highlights()
        )
        self.charts.children = [
            _figure_widget(feature_figure(name, self.preview.features[name]))
            for name in self.preview.charted_features()
        ]
        return self.preview

    def exercise(self) -> Exercise:
        """The exercise as described and tuned, validated (:class:`BankError` if not)."""
        assert self.form is not None
        return new_exercise(
            self.exercise_id.value.strip(),
            self.title.value.strip(),
            self.levels.value,
            self.theme.value,
            self.form.engine.name,
            self.form.values(),
            instructions=self.instructions.value.strip(),
        )

    def test(self):
        """Open the pupil's player on the exercise, in the notebook; nothing is recorded."""
        from calculatice.player.session import PlayerSession
        from calculatice.player.widget import PlayerWidget

        exercise = self._testable_exercise()
        self.player = PlayerWidget(PlayerSession([exercise], seed="atelier"))
        self.player_box.children = [self.player]
        return self.player

    def _testable_exercise(self) -> Exercise:
        """The exercise, with placeholders for a description not written yet."""
        assert self.form is not None
        return new_exercise(
            self.exercise_id.value.strip() or "essai",
            self.title.value.strip() or "Essai",
            self.levels.value or ("CP",),
            self.theme.value,
            self.form.engine.name,
            self.form.values(),
            instructions=self.instructions.value.strip(),
        )

    def save(self) -> Path:
        """Write the exercise to the bank folder; an existing one only if « Remplacer »."""
        exercise = self.exercise()
        path = write_exercise(exercise, self.folder, overwrite=self.replace.value)
        self.replace.value = False
        self.message.value = _info_html(f"Exercice enregistré dans {path}.")
        return path

    def _safely(self, action: Callable[[], Any]) -> None:
        # Exceptions in widget callbacks are invisible: show a French message instead.
        try:
            action()
        except CalculaticeError as error:
            self.message.value = _error_html(_french(error))
        except Exception:
            log.exception("The workshop failed")
            self.message.value = _error_html(
                f"Un problème est survenu{NNBSP}: voir le journal du noyau."
            )


def _french(error: CalculaticeError) -> str:
    reason = getattr(error, "reason", None)
    field = getattr(error, "field", "")
    if reason is not None:
        return f"{field} : {reason}" if field else reason
    return str(error)


def _info_html(text: str) -> str:
    return f'<span style="color:#1b5e20">{html.escape(text)}</span>'


def _figure_widget(figure):
    import plotly.graph_objects as go

    return go.FigureWidget(figure)


def workshop(bank_folder: Path | None = None) -> widgets.Widget:
    """The workshop's widget, for ``notebooks/atelier.ipynb``."""
    return Workshop(bank_folder=bank_folder).widget


def bank_summary(bank: Bank) -> dict[str, Counter]:
    """How many exercises the bank has by level, by theme and by engine."""
    return {
        "level": Counter(
            {level: sum(level in ex.levels for ex in bank.exercises.values()) for level in LEVELS}
        ),
        "theme": Counter(ex.theme for ex in bank.exercises.values()),
        "engine": Counter(ex.engine for ex in bank.exercises.values()),
    }


def progression_grid(bank: Bank) -> dict[str, dict[str, int]]:
    """Exercises per theme (rows) and level (columns), zeros included."""
    grid = {theme: dict.fromkeys(LEVELS, 0) for theme in THEMES}
    for exercise in bank.exercises.values():
        for level in exercise.levels:
            grid[exercise.theme][level] += 1
    return grid


def progression_gaps(bank: Bank, fewer_than: int = 1) -> list[tuple[str, str, int]]:
    """Level and theme pairs with fewer than ``fewer_than`` exercises: (level, theme, count)."""
    grid = progression_grid(bank)
    return [
        (level, theme, grid[theme][level])
        for theme in THEMES
        for level in LEVELS
        if grid[theme][level] < fewer_than
    ]


def progression_figure(bank: Bank):
    """A heat map of exercises per theme and level: the gaps of the progression stand out."""
    import plotly.graph_objects as go

    grid = progression_grid(bank)
    figure = go.Figure(
        go.Heatmap(
            z=[[grid[theme][level] for level in LEVELS] for theme in THEMES],
            x=list(LEVELS),
            y=[THEMES[theme] for theme in THEMES],
            colorscale="Blues",
            text=[[str(grid[theme][level]) for level in LEVELS] for theme in THEMES],
            texttemplate="%{text}",
        )
    )
    figure.update_layout(
        title="Exercices par thème et par niveau", height=520, yaxis_autorange="reversed"
    )
    return figure


def counts_figure(
    counts: Mapping[str, int],
    title: str,
    labels: Mapping[str, str] | None = None,
    *,
    largest_first: bool = True,
):
    """A horizontal bar chart of counts, largest first unless the order given matters."""
    import plotly.graph_objects as go

    ordered = (
        sorted(counts.items(), key=lambda item: -item[1]) if largest_first else counts.items()
    )
    ordered = list(ordered)
    names = [(labels or {}).get(name, name) for name, _ in ordered]
    figure = go.Figure(go.Bar(x=[count for _, count in ordered], y=names, orientation="h"))
    figure.update_layout(
        title=title, height=max(240, 22 * len(ordered) + 80), yaxis_autorange="reversed"
    )
    return figure
