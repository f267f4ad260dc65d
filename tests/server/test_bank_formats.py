"""Importing QTI 2.1 and 3.0 (items and packages), Moodle XML and GIFT; exporting QTI 3.0."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from server.bank.formats import ImportError_, Mapping, read_items
from server.bank.formats.export import qti3_package, to_toml
from server.bank.loader import bundled_files, load_file, load_files
from server.bank.validate import GENERAL, HOUSE, validate

SAMPLES = Path(__file__).with_name("samples")
MANIFEST = (
    b'<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
    b'<resource identifier="R" type="imsqti_item_xmlv2p1" href="%s"/></resources></manifest>'
)
MALFORMED = SAMPLES / "malformed"


def package(tmp_path: Path) -> Path:
    path = tmp_path / "package.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in (SAMPLES / "qti_package").rglob("*"):
            if file.is_file():
                archive.write(file, file.relative_to(SAMPLES / "qti_package").as_posix())
    return path


def test_qti21_item_with_inline_feedback() -> None:
    [item] = read_items(SAMPLES / "qti21_item.xml", Mapping()).items
    assert item.id == "QTI-dropout-inference"
    assert (item.category, item.skill) == ("improving", "Applying dropout")
    assert item.stem == (
        "A network was trained with inverted dropout (keep probability 0.8).\n"
        "What should be done with dropout at inference time?"
    )
    assert [o.text for o in item.options][1] == "Turn it off and use the weights unchanged"
    assert item.key == ("ChoiceB",)
    assert item.options[1].feedback.startswith("Correct: inverted dropout")
    assert item.status == "draft" and (item.a, item.b, item.c) == (1.0, 0.0, 0.25)


def test_qti30_item_with_modal_feedback() -> None:
    [item] = read_items(SAMPLES / "qti30_item.xml", Mapping()).items
    assert (item.category, item.skill) == ("cnn", "Using pooling layers")
    assert item.stem.startswith("How many trainable parameters")
    assert [o.text for o in item.options] == ["16", "64", "4", "0"]
    assert item.key == ("D",)
    assert item.options[3].feedback == "Correct: max-pooling has no trainable parameters."


def test_qti_content_package(tmp_path: Path) -> None:
    items = read_items(package(tmp_path), Mapping()).items
    assert [i.id for i in items] == ["QTI-relu-grad", "QTI-embedding-size"]
    assert items[0].category == "foundations"  # mapped from the category's display name
    assert items[0].skill == "Backward propagating through a ReLU function"
    assert items[1].stem.startswith("A vocabulary has 10,000 words")
    assert items[1].stem.endswith("How many values does the embedding matrix hold?")
    assert validate(items, targets=None).ok


def test_moodle_multichoice_with_category_paths() -> None:
    result = read_items(
        SAMPLES / "moodle.xml", Mapping(categories={"CNN": "cnn", "RNN": "sequence"})
    )
    first, second, third = result.items
    assert first.id == "MDL-conv-same-3"
    assert (first.category, first.skill) == ("cnn", "Computing convolution output shapes")
    assert first.stem == (
        "A 3x3 convolution with stride 1 must keep a 28x28 input at 28x28.\n"
        "How much zero padding is needed on each side?"
    )
    assert first.key == ("b",) and first.options[1].text == "1"
    assert second.stem == "What does an LSTM's forget gate control?"
    assert (second.category, second.skill) == ("sequence", "Understanding LSTM gates")
    # A true/false question is a two-option single-choice item, in the last category named.
    assert [o.text for o in third.options] == ["True", "False"] and third.key == ("b",)
    assert validate(result.items, targets=None, profile=GENERAL).ok


def test_gift_multiple_choice_with_escapes_and_categories() -> None:
    result = read_items(SAMPLES / "questions.gift", Mapping())
    he, adam, attention, true_false = result.items
    assert he.id == "GIFT-he-init" and he.category == "improving"
    assert he.skill == "Choosing a weight initialisation scheme"
    assert he.stem.startswith("A layer has 512 inputs")  # the [html] marker and tags are gone
    assert he.key == ("b",)
    assert he.options[1].feedback == "Correct: He initialisation uses 2/fan_in for ReLU."
    assert adam.options[2].text.startswith("Because the moving averages start at zero")
    assert (attention.category, attention.skill) == ("sequence", "Using attention")
    assert true_false.key == ("b",) and true_false.options[1].text == "False"
    assert all(o.status == "imported" for o in result.outcomes)


def test_a_category_that_cannot_be_mapped_skips_the_item_saying_how_to_map_it() -> None:
    result = read_items(SAMPLES / "moodle.xml", Mapping())
    [cnn] = result.items  # "CNN" names examgate's cnn category; "RNN" names none
    assert cnn.category == "cnn"
    skipped = [o for o in result.outcomes if o.item is None]
    assert len(skipped) == 2
    for outcome in skipped:
        assert "no examgate category for top/Deep learning/RNN" in outcome.notes[0]
        assert "--category-map" in outcome.notes[0]


def test_an_unknown_category_id_is_refused_before_anything_is_read() -> None:
    with pytest.raises(ImportError_, match=r"unknown category 'vision'"):
        Mapping(category="vision")
    with pytest.raises(ImportError_, match=r"unknown category 'nlp'"):
        Mapping(categories={"NLP": "nlp"})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("entity_bomb.xml", "refused: the XML declares a DTD or entities"),
        ("external_entity.xml", "refused: the XML declares a DTD or entities"),
        ("not_well_formed_moodle.xml", "not well-formed XML"),
        ("two_keys_moodle.xml", "answers are each fully right"),
        ("no_braces.gift", "no answers in braces"),
    ],
)
def test_malformed_files_are_skipped_naming_the_file(name: str, message: str) -> None:
    result = read_items(MALFORMED / name, Mapping(category="cnn", skill="Pooling"))
    assert result.items == []
    [outcome] = [o for o in result.outcomes if o.item is None]
    assert outcome.where.startswith(str(MALFORMED / name)) and message in outcome.notes[0]


def test_a_zip_bomb_package_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", MANIFEST % b"padding.xml")
        archive.writestr("padding.xml", b"\0" * (60 * 1024 * 1024))
    assert bomb.stat().st_size < 1024 * 1024
    [outcome] = read_items(bomb, Mapping()).outcomes
    assert outcome.item is None and "unpacks to more than 20 MiB" in outcome.notes[0]


def test_items_without_feedback_pass_the_general_profile_but_not_the_house_one() -> None:
    items = read_items(MALFORMED / "missing_feedback_qti30.xml", Mapping()).items
    assert validate(items, targets=None, profile=GENERAL).ok
    report = validate(items, targets=None, profile=HOUSE)
    assert any("option A has no feedback" in str(finding) for finding in report.errors)


def test_qti3_export_round_trips_the_bank(tmp_path: Path) -> None:
    bank = load_files(bundled_files())[:12]
    path = tmp_path / "export.zip"
    path.write_bytes(qti3_package(bank))
    result = read_items(path, Mapping(status="draft"))
    assert all(o.exact for o in result.outcomes)
    assert sorted(result.items, key=lambda i: i.id) == sorted(bank, key=lambda i: i.id)


def test_toml_writer_round_trips(tmp_path: Path) -> None:
    items = read_items(SAMPLES / "questions.gift", Mapping()).items
    path = tmp_path / "out.toml"
    path.write_text(to_toml(items, "imported"), encoding="utf-8")
    assert load_file(path) == items
