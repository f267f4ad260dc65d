"""Pictures in questions: carried (encrypted) in the sealed package from the bank to the
client, and drawn under the text that names them, each with its description for a screen
reader. The picture is a real one from an imported item (tests/data/bank-import)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAccessible
from pytestqt.qtbot import QtBot
from sqlalchemy import update

from client.ui.question_view import QuestionView
from server import db
from server.bank.store import bump_version
from shared import canonical
from shared.wire import PackageImage
from tests.conftest import ThreadServer

SIGN = Path(__file__).parents[1] / "data" / "bank-import" / "qti3" / "items" / "img" / "sign.png"
ALT = "NEVER LEAVE LUGGAGE UNATTENDED"


def picture(alt: str = ALT) -> PackageImage:
    return PackageImage("image/png", base64.b64encode(SIGN.read_bytes()).decode(), alt)


def test_a_question_shows_its_pictures_under_the_text_that_names_them(qtbot: QtBot) -> None:
    view = QuestionView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.show_question(
        "Convolutional neural networks",
        f"Look at the sign.\n[Image 1: {ALT}]\nWhat does it say?",
        ["Stay with your luggage", "[Image 2]", "Leave it"],
        False,
        [picture(), picture(alt="")],
    )
    stem_picture, option_picture = view.pictures
    assert view.stem_pictures.indexOf(stem_picture) == 0  # under the stem
    boxes = [view.options_box.itemAt(n).widget() for n in range(view.options_box.count())]
    assert boxes.index(option_picture) == boxes.index(view.buttons[1]) + 1  # under option B
    for shown, name in ((stem_picture, f"Image 1: {ALT}"), (option_picture, "Image 2")):
        assert not shown.pixmap().isNull() and shown.pixmap().width() == 170  # its own size
        assert QAccessible.queryAccessibleInterface(shown).text(QAccessible.Text.Name) == name
    view.show_question("c", "Next", ["a", "b"], False, [])
    assert view.pictures == [] and view.stem_pictures.count() == 0


def test_a_picture_that_cannot_be_read_says_so_instead(qtbot: QtBot) -> None:
    view = QuestionView()
    qtbot.addWidget(view)
    broken = PackageImage("image/png", base64.b64encode(b"not a picture").decode(), "A chart")
    view.show_question("c", "[Image 1: A chart] Which?", ["a", "b"], False, [broken])
    [shown] = view.pictures
    assert shown.text() == "(Image 1: A chart could not be shown.)"


def test_pictures_travel_in_the_sealed_package(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    ctx = sqlite_live.ctx
    image = {
        "name": "sign.png",
        "type": "image/png",
        "alt": ALT,
        "data": base64.b64encode(SIGN.read_bytes()).decode(),
    }
    with ctx.engine.begin() as connection:  # every live CNN item gets the picture
        connection.execute(
            update(db.items)
            .where(db.items.c.category == "cnn", db.items.c.status == "live")
            .values(stem=db.items.c.stem + f"\n[Image 1: {ALT}]", images=canonical.to_text([image]))
        )
        bump_version(connection)
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    sitting = engine.enrol(sqlite_live.url, invitation["invitation"])
    engine.download(sitting["id"])
    session = engine.unlock(sitting["id"], invitation["unlock_code"])
    opened = canonical.dumps([item.to_json() for item in session.items])
    assert b"sign.png" not in opened  # no file name reaches the candidate
    shown = [item for item in session.items if item.images]
    assert shown and all(item.category == "cnn" for item in shown)
    carried = shown[0].images[0]
    assert base64.b64decode(carried.data) == SIGN.read_bytes() and carried.alt == ALT
    view = QuestionView()
    qtbot.addWidget(view)
    item = shown[0]
    view.show_question(
        item.category, item.stem, [o.text for o in item.options], item.multiple, item.images
    )
    assert not view.pictures[0].pixmap().isNull()


def test_clicking_a_picture_under_an_option_chooses_the_option(qtbot: QtBot) -> None:
    from PySide6.QtCore import Qt

    view = QuestionView()
    qtbot.addWidget(view)
    view.show()
    view.show_question("c", "Which sign?", ["[Image 1]", "[Image 2]"], False, [picture()] * 2)
    with qtbot.waitSignal(view.chosen) as chosen:
        qtbot.mouseClick(view.pictures[1], Qt.MouseButton.LeftButton)
    assert chosen.args == [1]
