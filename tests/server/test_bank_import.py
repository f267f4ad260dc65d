"""Importing the item banks employers already have: real files from Moodle, QTI tools, Canvas
and Blackboard (``tests/data/bank-import``, each named with its source and licence in
SOURCES.md), one per format and version and one per mis-import once seen, each asserting the
stem, options, key and feedback that land; hostile files; the export against 1EdTech's schemas;
import, export and import again with nothing changed."""

from __future__ import annotations

import gzip
import io
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest

from server.bank.formats import Mapping, Outcome, read_items
from server.bank.formats.export import qti3_package
from server.bank.loader import bundled_files, load_files, practice_files
from server.bank.model import BankItem

DATA = Path(__file__).parents[1] / "data" / "bank-import"
XSD = Path(__file__).parents[1] / "data" / "qti3-xsd"
ANY = Mapping(category="foundations", skill="Imported")


def only(path: Path, mapping: Mapping = ANY) -> BankItem:
    [item] = read_items(path, mapping).items
    return item


def outcomes(path: Path, mapping: Mapping = ANY) -> dict[str, Outcome]:
    return {o.where.rsplit("/", 1)[-1]: o for o in read_items(path, mapping).outcomes}


def texts(item: BankItem) -> list[str]:
    return [option.text for option in item.options]


# -- Moodle XML ------------------------------------------------------------------------------


def test_moodle_several_answers_with_partial_marks_and_item_feedback() -> None:
    item = only(DATA / "moodle_xml" / "moodle-core_multichoice_testquestion.moodle.xml")
    assert item.stem == "Find the capital cities in Europe."
    assert texts(item) == ["Tokyo", "Spain", "London", "Barcelona", "Paris"]
    assert item.multiple and item.key == ("c", "e")  # the two answers worth 50% each
    assert item.general_feedback == "Berlin, Paris and London"
    assert item.correct_feedback == "Your answer is correct."
    assert item.incorrect_feedback == "Your answer is incorrect."
    assert item.c == round(1 / 31, 3)  # one right set of 2^5 - 1


def test_moodle_true_false_and_the_types_it_skips_by_name() -> None:
    found = read_items(
        DATA / "moodle_xml" / "moodle-core_nested_categories_with_questions.xml", ANY
    )
    true_false = [o.item for o in found.outcomes if o.item is not None]
    assert len(true_false) == 4
    assert all(texts(item) == ["True", "False"] and len(item.key) == 1 for item in true_false)
    [essay] = [o for o in found.outcomes if o.item is None]
    assert "its type is 'essay'" in essay.notes[0] and "Kappa Essay Question" in essay.where


def test_moodle_pictures_carried_from_the_files_in_the_question() -> None:
    found = outcomes(DATA / "moodle_xml" / "amc2moodle_QCM.xml")
    item = found["amc2moodle_QCM.xml: question 2 'Qsimple:img'"].item
    assert item is not None
    assert item.stem.endswith(
        "Pour trouver les coefficients on doit résoudre un problème\n[Image 1]"
    )
    assert "\\(N\\) points donnés" in item.stem  # HTML line breaks are spaces, TeX kept
    assert [(i.name, i.media_type) for i in item.images] == [
        ("schema_interpL.png", "image/png"),
        ("tinymonk.png", "image/png"),
    ]
    assert item.images[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    assert texts(item)[2] == "de Thelonius Sphere Monk\n[Image 2]\n[Image 2]"
    assert item.key == ("a",)  # the answers worth -50% are wrong ones
    seven = found["amc2moodle_QCM.xml: question 6 'Qmult:TabVerbMacro'"]
    assert seven.item is None and "7 options; examgate shows at most six" in seven.notes[0]
    calculated = found["amc2moodle_QCM.xml: question 22 'calc:area'"]
    assert calculated.item is None and "'calculatedmulti'" in calculated.notes[0]


def test_moodle_one_x_picture_tag() -> None:
    path = DATA / "moodle_xml" / "moodle-core-2017_sample_questions_with_old_image_tag.xml"
    [item] = read_items(path, ANY).items
    assert item.stem.endswith("[Image 1]") and item.images[0].media_type == "image/png"


# -- GIFT ------------------------------------------------------------------------------------


def test_gift_format_markers_are_read_not_shown() -> None:
    item = only(DATA / "gift" / "gift-grammar_formatExamples.gift")
    assert item.stem == "The sun rises in which direction?"
    assert texts(item) == ["The east.", "The west."]
    assert [o.feedback for o in item.options] == [
        "Awesome!",
        "What planet did you grow up on?",
    ]
    assert "[html]" not in item.stem and "<p>" not in item.stem


def test_gift_general_feedback_is_the_items_not_the_last_options() -> None:
    found = read_items(DATA / "gift" / "gift-grammar_multiLineFeedback1.gift", ANY)
    item = found.items[0]
    assert item.options[-1].feedback == "Very good!"
    assert item.general_feedback.startswith("Global feedback")


def test_gift_weights_make_a_several_answer_question() -> None:
    item = only(DATA / "gift" / "gift-grammar_multipleAnswersFloat.gift")
    assert texts(item) == ["Africa", "Asia", "China", "Antarctica", "America"]
    assert item.multiple and item.key == ("a", "b", "d")


def test_gift_partial_credit_and_several_full_answers_are_never_keys() -> None:
    found = outcomes(DATA / "gift" / "moodle-core_examples.txt")
    half = found["moodle-core_examples.txt:115"]
    assert half.item is not None and half.item.key == ("c",)  # the 100% answer only
    assert half.notes == ["answer b earns 50% in Moodle; examgate scores it as wrong"]
    short = found["moodle-core_examples.txt:14"]  # {=no one =nobody}: two full answers
    assert short.item is None and "short-answer question" in short.notes[0]
    numerical = found["moodle-core_examples.txt:16"]
    assert numerical.item is None and "numerical question" in numerical.notes[0]
    matching = found["moodle-core_examples.txt:55"]
    assert matching.item is None and "matching question" in matching.notes[0]


def test_gift_a_numerical_question_is_skipped_and_the_file_still_imports() -> None:
    found = outcomes(DATA / "gift" / "moodle-core_questions.gift.txt")
    numerical = found["moodle-core_questions.gift.txt:31"]  # {#3:2~#Completely wrong}
    assert numerical.item is None and numerical.notes == [
        "it is a numerical question; examgate imports choice questions"
    ]
    assert sum(1 for o in found.values() if o.item is not None) == 5


# -- QTI 2.1 and 2.2 -------------------------------------------------------------------------


def test_qti21_feedback_per_option_from_modal_feedback() -> None:
    item = only(DATA / "qti2" / "items" / "qtiworks_chc_mcqS.xml")
    assert item.stem.startswith("Single choice (MCQ).")
    assert item.key == ("ChoiceA",) and len(item.options) == 5
    assert item.options[0].feedback.startswith("Yes, you have selected")
    assert item.options[1].feedback.startswith("No, you have selected")


def test_qti21_several_answers() -> None:
    item = only(DATA / "qti2" / "items" / "qtiworks_chc_mulS.xml")
    assert item.multiple and len(item.key) > 1


def test_qti_mathml_reads_as_a_formula() -> None:
    item = only(DATA / "qti2" / "items" / "qtisdk_math_1.xml")
    assert item.stem == (
        "Which famous scientist is popularly associated with the equation E = mc² ?"
    )
    assert item.key == ("E",) and texts(item)[0] == "Einstein"


def test_qti_escaped_markup_is_decoded_once_and_kept() -> None:
    item = only(DATA / "qti2" / "qtiworks_WebDeveloperTest1" / "question4.xml")
    assert texts(item) == [
        '<img src = "myimage.jpg" />',
        '<img src = "images" />',
        '<img src = "myimage.jpg/images" />',
        '<img src = "images/myimage.jpg" />',
    ]
    assert "[Image 1: File Directory]" in item.stem
    assert item.images[0].media_type == "image/gif"  # read from its bytes, not its .jpg name


def test_qti_an_item_with_other_interactions_is_skipped_naming_them() -> None:
    [outcome] = read_items(
        DATA / "qti2" / "items" / "qtisdk_multiple_interactions.xml", ANY
    ).outcomes
    assert outcome.item is None
    assert outcome.notes[0].startswith("it has choiceInteraction, inlineChoiceInteraction")


def test_qti_a_template_item_is_skipped() -> None:
    [outcome] = read_items(DATA / "qti2" / "items" / "qtiworks_MANum01SR.xml", ANY).outcomes
    assert outcome.item is None and "template" in outcome.notes[0]


def test_qti_the_key_comes_from_the_correct_response_alone(tmp_path: Path) -> None:
    """The same real item, its correct response replaced by a default value: not keyed."""
    source = (DATA / "qti2" / "items" / "qtiworks_chc_mcqS.xml").read_text(encoding="utf-8")
    start, end = source.index("<correctResponse>"), source.index("</correctResponse>") + 18
    defaulted = (
        source[:start] + "<defaultValue><value>ChoiceB</value></defaultValue>" + source[end:]
    )
    (tmp_path / "item.xml").write_text(defaulted, encoding="utf-8")
    [outcome] = read_items(tmp_path / "item.xml", ANY).outcomes
    assert outcome.item is None and "declares no correct response" in outcome.notes[0]


def test_qti22_package_folder_with_pictures_as_options_and_other_kinds_skipped() -> None:
    found = outcomes(DATA / "qti2" / "packages" / "interactionmix_saxony_v3")
    flag = found[
        "interactionmix_saxony_v3:Choicesingle_853928446.xml (Choicesingle_853928446)"
    ].item
    assert flag is not None
    assert flag.stem == "Das Bundesland Sachsen hat die folgende Flagge..."
    assert texts(flag) == ["[Image 1]", "[Image 2]", "[Image 3]", "[Image 4]"]
    assert [i.media_type for i in flag.images] == ["image/jpeg"] * 4
    assert flag.general_feedback.startswith("Die sächsischen Landesfarben")
    order = found["interactionmix_saxony_v3:Order_913967682.xml (Order_913967682)"]
    assert order.item is None and order.notes[0].startswith("it has orderInteraction")
    entry = found[
        "interactionmix_saxony_v3:TextEntrysubset_806481421.xml (TextEntrysubset_806481421)"
    ]
    assert entry.item is None and entry.notes[0].startswith("it has 3 textEntryInteractions")


def test_qti22_zip_whose_manifest_lists_only_the_test() -> None:
    found = read_items(DATA / "qti2" / "packages" / "instructure_test_qti_2.2.zip", ANY)
    assert len(found.items) == 3 and len(found.outcomes) == 5
    picture = next(i for i in found.items if i.images)
    assert picture.images[0].media_type == "image/png"


# -- QTI 3.0 ---------------------------------------------------------------------------------


def test_qti3_picture_is_carried_and_marked() -> None:
    item = only(DATA / "qti3" / "items" / "citolab_example-choice-item.xml")
    assert item.stem == (
        "Look at the text in the picture.\n[Image 1: NEVER LEAVE LUGGAGE UNATTENDED]\n"
        "What does it say?"
    )
    assert item.images[0].alt == "NEVER LEAVE LUGGAGE UNATTENDED"
    assert item.images[0].data[:4] == b"\x89PNG" and item.key == ("ChoiceA",)


def test_qti3_several_answers() -> None:
    item = only(DATA / "qti3" / "items" / "citolab_example-choice-multiple-item.xml")
    assert item.multiple and len(item.key) >= 2


def test_qti3_kebab_case_interactions_are_recognised() -> None:
    path = DATA / "qti3" / "items" / "citolab_example-multiple-interactions.xml"
    [outcome] = read_items(path, ANY).outcomes
    assert outcome.item is None and "inlineChoiceInteractions" in outcome.notes[0]


def test_qti3_package_with_many_kinds() -> None:
    found = read_items(DATA / "qti3" / "packages" / "citolab_kennisnet-2", ANY)
    assert len(found.items) == 3
    assert sum(1 for o in found.outcomes if o.item is None) == 11


# -- QTI 1.2: Canvas and Blackboard ----------------------------------------------------------


def test_canvas_feedback_per_option_and_for_the_item() -> None:
    item = only(DATA / "qti12" / "canvas" / "items" / "mc_feedback.xml")
    assert item.stem == "Feedback Check"
    assert texts(item) == ["A", "B", "C", "D"]
    assert item.key == ("a",)  # Canvas's numeric idents become letters
    assert [o.feedback for o in item.options] == [
        "Answer A Feedback",
        "Answer B Feedback",
        "Answer C Feedback",
        "Answer D Feedback",
    ]
    assert item.general_feedback == "General Feedback"
    assert item.correct_feedback == "General Correct Feedback"
    assert item.incorrect_feedback == "General Incorrect Feedback"


def test_canvas_several_answers_from_and_and_not() -> None:
    item = only(DATA / "qti12" / "canvas" / "items" / "multiple_answer_canvas.xml")
    assert item.stem == "Multiple Answer pick A C and D"
    assert item.multiple and item.key == ("a", "c", "d")


def test_canvas_quiz_with_every_kind() -> None:
    found = read_items(DATA / "qti12" / "canvas" / "all_canvas_simple_1.2.xml", ANY)
    assert len(found.items) == 2  # the multiple-choice and the true/false questions
    reasons = " ".join(o.notes[0] for o in found.outcomes if o.item is None)
    for kind in ("essay_question", "matching_question", "numerical_question"):
        assert f"its kind is '{kind}'" in reasons


def test_blackboard_pool_multiple_choice_answer_and_true_false() -> None:
    found = read_items(DATA / "qti12" / "blackboard" / "moodle_sample_blackboard_qti.dat", ANY)
    spectrum = next(i for i in found.items if "orange and green" in i.stem)
    assert texts(spectrum)[spectrum.options.index(next(
        o for o in spectrum.options if o.id == spectrum.key[0]
    ))] == "yellow"  # fmt: skip
    assert spectrum.options[0].feedback.startswith("Red is not between orange and green")
    assert len(found.items) == 3
    reasons = " ".join(o.notes[0] for o in found.outcomes if o.item is None)
    assert "'Matching'" in reasons and "'Essay'" in reasons


# -- hostile files ---------------------------------------------------------------------------


def _lying_zip(tmp_path: Path) -> Path:
    """A package whose index says each member is 10 bytes; one inflates to 200 MiB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "imsmanifest.xml",
            b'<manifest><resources><resource type="imsqti_item_xmlv2p1" href="item.xml"/>'
            b"</resources></manifest>",
        )
        archive.writestr("item.xml", b"<a>" + b" " * (200 * 1024 * 1024) + b"</a>")
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # sizes in both headers
        at = data.find(signature)
        while at >= 0:
            struct.pack_into("<I", data, at + offset, 10)
            at = data.find(signature, at + 4)
    path = tmp_path / "lying.zip"
    path.write_bytes(bytes(data))
    return path


def test_a_zip_that_lies_about_its_sizes_is_stopped_on_the_bytes_read(tmp_path: Path) -> None:
    path = _lying_zip(tmp_path)
    assert sum(i.file_size for i in zipfile.ZipFile(path).infolist()) <= 20
    tracemalloc.start()
    try:
        [outcome] = read_items(path, ANY).outcomes
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert outcome.item is None
    assert "damaged" in outcome.notes[0] or "unpacks to more than" in outcome.notes[0]
    assert peak < 64 * 1024 * 1024  # never the 200 MiB the member inflates to


def test_a_member_whose_compressed_bytes_are_damaged_is_named_not_a_crash(
    tmp_path: Path,
) -> None:
    buffer = io.BytesIO()
    item = b"<a>" + b"".join(b"line %d of a real item\n" % n for n in range(2000)) + b"</a>"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "imsmanifest.xml",
            b'<manifest><resources><resource type="imsqti_item_xmlv2p1" href="item.xml"/>'
            b"</resources></manifest>",
        )
        archive.writestr("item.xml", item)
    data = bytearray(buffer.getvalue())
    start = data.find(b"PK\x03\x04", data.find(b"item.xml") - 40)
    body = start + 30 + len(b"item.xml")  # the member's compressed bytes begin here
    for offset in range(body + 20, body + 60):
        data[offset] ^= 0xFF
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(data))
    [outcome] = read_items(path, ANY).outcomes
    assert outcome.item is None
    assert outcome.notes[0].startswith("item.xml in the package is damaged")


def test_deep_nesting_is_refused_with_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    path.write_text(
        '<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="x">'
        + "<div>" * 50_000
        + "</div>" * 50_000
        + "</assessmentItem>"
    )
    [outcome] = read_items(path, ANY).outcomes
    assert outcome.item is None and "nested more than 100 deep" in outcome.notes[0]
    deep_html = tmp_path / "deep.gift"
    deep_html.write_text("[html]" + "<b>" * 50_000 + "Q {=a ~b}")
    [gift] = read_items(deep_html, ANY).outcomes
    assert gift.item is None and "nested too deeply" in gift.notes[0]


# -- exporting and importing again ---------------------------------------------------------


@pytest.fixture(scope="module")
def schemas() -> tuple[Any, Any]:
    """1EdTech's QTI 3.0 item schema and content-package schema, loaded offline."""
    etree = pytest.importorskip("lxml.etree")

    class Local(etree.Resolver):  # type: ignore[misc]
        def resolve(self, url: str, _pubid: Any, context: Any) -> Any:
            name = url.rsplit("/", 1)[-1]
            if (XSD / name).is_file():
                return self.resolve_filename(str(XSD / name), context)
            return None

    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(Local())
    with gzip.open(XSD / "imsqti_asiv3p0_v1p0.xsd.gz") as packed:
        items = etree.XMLSchema(etree.parse(packed, parser, base_url=str(XSD) + "/"))
    package = etree.XMLSchema(etree.parse(str(XSD / "imsqtiv3p0_imscpv1p2_v1p0.xsd"), parser))
    return items, package


def _validates(data: bytes, schemas: tuple[Any, Any]) -> list[str]:
    from lxml import etree

    items, package = schemas
    problems = []
    archive = zipfile.ZipFile(io.BytesIO(data))
    if not package.validate(etree.fromstring(archive.read("imsmanifest.xml"))):
        problems.append(f"imsmanifest.xml: {package.error_log.last_error}")
    for name in archive.namelist():
        if name.endswith(".xml") and name != "imsmanifest.xml":
            document = etree.fromstring(archive.read(name))
            if not items.validate(document):
                problems.append(f"{name}: {items.error_log.last_error}")
    return problems


def _real_items() -> list[BankItem]:
    found: dict[str, BankItem] = {}
    for path in (
        DATA / "qti3" / "items" / "citolab_example-choice-item.xml",
        DATA / "qti2" / "packages" / "interactionmix_saxony_v3",
        DATA / "qti12" / "canvas" / "items" / "mc_feedback.xml",
        DATA / "moodle_xml" / "amc2moodle_QCM.xml",
        DATA / "gift" / "moodle-core_examples.txt",
        DATA / "qti2" / "items" / "qtisdk_math_1.xml",
    ):
        found.update({item.id: item for item in read_items(path, ANY).items})
    return list(found.values())


def test_the_exported_package_validates_against_the_qti3_schemas(
    schemas: tuple[Any, Any],
) -> None:
    bank = load_files(bundled_files()) + load_files(practice_files())
    assert _validates(qti3_package(bank), schemas) == []
    assert _validates(qti3_package(_real_items()), schemas) == []


def test_import_export_import_changes_nothing(tmp_path: Path) -> None:
    items = sorted(_real_items(), key=lambda item: item.id)
    assert sum(len(item.images) for item in items) >= 7
    first = qti3_package(items)
    (tmp_path / "first.zip").write_bytes(first)
    back = read_items(tmp_path / "first.zip", Mapping(category="cnn", skill="other"))
    assert all(o.exact and not o.notes for o in back.outcomes)
    assert sorted(back.items, key=lambda item: item.id) == items
    assert qti3_package(back.items) == first  # and out again: the same bytes
