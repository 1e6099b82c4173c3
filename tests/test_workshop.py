"""The authoring workshop, driven through its widgets without a browser."""

from __future__ import annotations

from pathlib import Path

import ipywidgets as widgets
import pytest
import yaml

from calculatice.catalogue import load_bank
from calculatice.engines import all_engines, get_engine
from calculatice.options import CommonOptions
from calculatice.workshop import (
    OptionsForm,
    Workshop,
    bank_summary,
    draw_preview,
    progression_gaps,
    progression_grid,
)


@pytest.fixture
def facts_form() -> OptionsForm:
    return OptionsForm(get_engine("multiplication_facts"))


@pytest.fixture
def workshop(bank_copy: Path) -> Workshop:
    return Workshop(bank=load_bank(bank_copy), bank_folder=bank_copy)


def test_form_widgets_follow_the_option_declarations(facts_form):
    fields = facts_form.fields
    assert isinstance(fields["tables"].input, widgets.Text)
    assert isinstance(fields["commute"].input, widgets.Checkbox)
    assert isinstance(fields["missing"].input, widgets.Dropdown)
    assert isinstance(fields["questions"].input, widgets.IntSlider)
    assert (fields["questions"].input.min, fields["questions"].input.max) == (1, 50)
    # A range of 3,600 seconds is too wide for a slider.
    assert isinstance(fields["exercise_seconds"].input, widgets.BoundedIntText)
    assert fields["tables"].input.description == "Tables"
    assert fields["tables"].input.tooltip.startswith("Les nombres travaillés")
    assert fields["missing"].input.options[0] == ("le résultat", "result")


def test_form_starts_at_the_defaults(facts_form):
    assert facts_form.values() == {
        "tables": "2-5",
        "others": "0-10",
        "commute": True,
        "missing": "result",
        **CommonOptions().model_dump(mode="json"),
    }
    assert facts_form.check() == {}


def test_every_engine_gets_a_valid_form_at_its_defaults():
    for name, engine in all_engines().items():
        form = OptionsForm(engine)
        assert form.check() == {}, name
        options, common = form.validated()
        assert (options, common) == (engine.options(), CommonOptions()), name


def test_set_widgets_give_the_option_values(facts_form):
    facts_form.fields["tables"].input.value = "6-9"
    facts_form.fields["missing"].input.value = "left"
    facts_form.fields["questions"].input.value = 15
    options, common = facts_form.validated()
    assert options.tables == (6, 7, 8, 9)
    assert options.missing == "left"
    assert common.questions == 15


def test_a_reversed_number_set_gets_its_french_message_beside_the_field(facts_form):
    facts_form.fields["tables"].input.value = "9-2"
    assert facts_form.problems() == {"tables": "L'intervalle « 9-2 » va à l'envers : écrire 2-9."}
    assert "écrire 2-9" in facts_form.fields["tables"].message.value
    assert facts_form.fields["others"].message.value == ""


def test_a_number_out_of_bounds_is_refused_in_french(facts_form):
    facts_form.fields["tables"].input.value = "2;30000"
    problem = facts_form.problems()["tables"]
    assert problem == "Les nombres doivent être entre 0 et 10\u202f000 (30\u202f000 ne l'est pas)."


def test_a_message_escapes_markup(facts_form):
    facts_form.fields["tables"].input.value = "<b>2</b>"
    assert "&lt;b&gt;" in facts_form.fields["tables"].message.value


def test_form_is_filled_from_an_exercise(bank):
    exercise = bank.get("cp-ajouter-9")
    form = OptionsForm(exercise.engine_object(), exercise.option_values())
    assert form.values()["numbers"] == "9"
    assert form.values()["question_seconds"] == 10
    options, common = form.validated()
    assert (options, common) == (exercise.options, exercise.common)
    assert form.changed_values(exercise.option_values()) == {}


def test_preview_counts_the_questions_that_need_a_carry():
    engine = get_engine("addition_facts")
    options = engine.options({"tables": "5-9", "others": "5-9"})
    preview = draw_preview(engine, options, CommonOptions(questions=8))
    assert len(preview.rows) == 8
    assert all(row["réponse"] for row in preview.rows)
    carries = preview.features["carries"]
    with_carry = sum(count for value, count in carries.items() if value)
    assert with_carry == sum(1 for q in preview.sample if q.features["carries"])
    share = round(100 * with_carry / len(preview.sample))
    assert f"{share}\u202f% des questions demandent au moins une retenue." in preview.highlights()


def test_preview_charts_what_varies_first_the_answer_size():
    engine = get_engine("multiplication_facts")
    preview = draw_preview(engine, engine.options({"tables": "6-9"}), CommonOptions())
    charted = preview.charted_features()
    assert charted[:2] == ["answer_digits", "table"]
    assert "missing" not in charted  # always the result here: nothing to chart


def test_workshop_preview_follows_the_options(workshop):
    workshop.engine_picker.value = "multiplication_facts"
    workshop.form.fields["tables"].input.value = "7"
    assert {q.features["table"] for q in workshop.preview.sample} == {7}
    assert "7 ×" in workshop.questions_html.value or "× 7" in workshop.questions_html.value
    assert len(workshop.charts.children) >= 1


def test_workshop_shows_why_no_question_is_drawn(workshop):
    workshop.engine_picker.value = "multiplication_facts"
    workshop.form.fields["tables"].input.value = "2-"
    assert workshop.preview is None
    assert "Corriger les options" in workshop.questions_html.value
    assert workshop.charts.children == ()


def test_bank_filters_list_matching_exercises(workshop):
    workshop.level_filter.value = "CP"
    workshop.theme_filter.value = "addition"
    ids = [value for _, value in workshop.exercise_picker.options]
    assert "cp-ajouter-9" in ids
    assert all(workshop.bank.get(i).theme == "addition" for i in ids)


def test_start_from_a_bank_exercise(workshop):
    workshop.start_from(workshop.bank.get("cp-ajouter-9"))
    assert workshop.engine_picker.value == "near_round"
    assert workshop.form.values()["numbers"] == "9"
    assert workshop.title.value == "Ajouter 9"
    assert workshop.levels.value == ("CP",)
    # The page shows the picker by its index: it must follow the value.
    names = [name for _, name in workshop.engine_picker.options]
    assert workshop.engine_picker.index == names.index("near_round")
    workshop.engine_picker.value = "multiplication_facts"
    assert workshop.form.engine.name == "multiplication_facts"


def test_tester_opens_the_pupil_player(workshop):
    workshop.engine_picker.value = "multiplication_facts"
    player = workshop.test()
    assert workshop.player_box.children == (player,)
    assert player.session.handle({"type": "state"})["screen"] == "title"


def test_save_writes_a_bank_file(workshop, bank_copy):
    workshop.engine_picker.value = "multiplication_facts"
    workshop.form.fields["tables"].input.value = "6-9"
    workshop.exercise_id.value = "ce2-tables-6-a-9"
    workshop.title.value = "Tables de 6 à 9"
    workshop.levels.value = ("CE2",)
    workshop.theme.value = "multiplication"
    path = workshop.save()
    assert path == bank_copy / "multiplication" / "ce2-tables-6-a-9.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["engine"] == "multiplication_facts"
    assert document["options"]["tables"] == "6-9"
    assert load_bank(bank_copy).get("ce2-tables-6-a-9").options.tables == (6, 7, 8, 9)


def test_save_refuses_to_overwrite_without_the_checkbox(workshop, bank_copy):
    path = bank_copy / "addition" / "cp-ajouter-9.yaml"
    before = path.read_text(encoding="utf-8")
    workshop.start_from(workshop.bank.get("cp-ajouter-9"))
    workshop.form.fields["questions"].input.value = 5
    workshop.save_button.click()
    assert "déjà cet identifiant" in workshop.message.value
    assert path.read_text(encoding="utf-8") == before

    workshop.replace.value = True
    workshop.save_button.click()
    assert "enregistré" in workshop.message.value
    assert load_bank(bank_copy).get("cp-ajouter-9").common.questions == 5
    assert workshop.replace.value is False


def test_save_refuses_a_bad_identifier_in_french(workshop):
    workshop.exercise_id.value = "Mon Exercice"
    workshop.title.value = "Essai"
    workshop.levels.value = ("CP",)
    workshop.save_button.click()
    assert "minuscules, chiffres et tirets" in workshop.message.value


def test_bank_at_a_glance(bank):
    summary = bank_summary(bank)
    assert sum(summary["theme"].values()) == len(bank)
    assert list(summary["level"]) == ["CP", "CE1", "CE2", "CM1", "CM2", "6e"]
    grid = progression_grid(bank)
    gaps = progression_gaps(bank, fewer_than=1)
    assert all(grid[theme][level] == 0 for level, theme, _ in gaps)
    assert sum(grid["addition"].values()) >= len(bank.select(themes=["addition"]))
