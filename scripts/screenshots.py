"""``make screenshots``: every candidate screen as a PNG, at 1366x768 and at 200% scaling.

Runs a real server on SQLite in a thread and the real windows offscreen; each screen is driven
to the state a candidate sees and grabbed. ``--scale 2`` lays the windows out at 683x384
device-independent pixels on a 1366x768 screen (what 200% scaling gives), so the PNGs are
1366x768 either way. Output: screenshots/<scale>x/NN-name.png.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1, choices=(1, 2))
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = parser.parse_args()
    os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYNPUT_BACKEND", "dummy")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

    import uvicorn

    from client.engine import Engine
    from client.keystore import FileKeyStore
    from client.settings import ClientSettings
    from client.ui.display_page import apply_display
    from client.ui.exam_window import ExamWindow
    from client.ui.main_window import MainWindow
    from client.ui.qt import QApplication, QGuiApplication, QWidget
    from client.ui.style import Display
    from server.app import create_app
    from server.context import Context
    from server.invitations import create_invitation
    from server.provision import initialise
    from server.settings import Settings

    out = args.out / f"{args.scale}x"
    out.mkdir(parents=True, exist_ok=True)
    size = (1366 // args.scale, 768 // args.scale)
    work = Path(tempfile.mkdtemp(prefix="examgate-shots-"))
    settings = Settings(data_dir=work / "server", database_url=f"sqlite:///{work / 'db.sqlite'}")
    initialise(settings)
    ctx = Context.open(settings)
    port = 18_000 + os.getpid() % 1000
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ctx, run_jobs=True), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"

    app = QApplication([])
    apply_display(Display())
    client = ClientSettings.load(work / "client")
    engine = Engine(client, FileKeyStore(client.home))
    window = MainWindow(engine, lockdown=False)
    window.resize(*size)
    window.show()
    count = 0

    def settle(ms: int = 150) -> None:
        deadline = time.monotonic() + ms / 1000
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    def grab(widget: QWidget, name: str) -> None:
        nonlocal count
        count += 1
        settle()
        widget.grab().save(str(out / f"{count:02d}-{name}.png"))

    def wait(condition: object, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
            settle(50)

    invitation = create_invitation(ctx, "deep-learning", "Ada Lovelace", False)
    window.prefill(url, invitation["invitation"])
    grab(window, "enrol")
    window.enrol_page.submit()
    wait(lambda: window.stack.currentWidget() is window.home_page)
    grab(window, "home")
    window.home_page.download_button.click()
    wait(lambda: window.home_page.take_button.isEnabled())
    grab(window, "home-downloaded")
    window.home_page.take_button.click()
    grab(window, "health")
    window.health_page.continue_button.click()
    grab(window, "ready")
    window.ready_page._rehearse(0)
    window.ready_page._rehearsal_enter()
    grab(window, "ready-rehearsed")
    exams: list[ExamWindow] = []
    window.exam_opened.connect(exams.append)
    window.ready_page.start_button.click()
    wait(lambda: bool(exams))
    exam = exams[0]
    exam.resize(*size)
    grab(exam, "exam")
    exam.choose(1)
    grab(exam, "exam-answered")
    from client.policy import Decision
    from client.proctor.lockdown import _focus_message

    exam._warn(_focus_message(Decision("warn", "focus_lost", 1, 2), 7, "candidate"))
    grab(exam, "exam-warning")
    exam.session.lock("focus_lost")
    exam._show_lock(exam.session.lock_challenge or "")
    grab(exam, "lock-online")
    proctor = ExamWindow(exam.session, "Deep learning skills test", lockdown=False, keyboard=False)
    proctor.lock_page.release = "proctor"
    proctor.resize(*size)
    proctor.lock_page.show_challenge(
        exam.session.lock_challenge or "K3MQ-7X2P",
        "You left the exam window more often or for longer than allowed.",
    )
    proctor.lock_page.show_status(exam.session.unlock_status())
    proctor.lock_page.set_clock(exam.clock.text())
    proctor.pages.setCurrentWidget(proctor.lock_page)
    proctor.show()
    grab(proctor, "lock-supervised")
    proctor.save_page.show_message(
        "Your last answer could not be saved: the disk is full. Free some space or call your "
        "proctor; nothing saved before is lost."
    )
    proctor.pages.setCurrentWidget(proctor.save_page)
    grab(proctor, "save-failed")
    proctor.guards.stop()
    proctor.hide()
    exam.session._locked = False
    exam._hide_lock()
    while exam.session.index + 1 < exam.session.total:
        exam.choose(0)
        exam.next_question()
    exam.choose(2)
    exam.next_question()
    grab(exam, "confirm-finish")
    exam.confirm_page.yes.click()
    grab(exam, "end")
    wait(lambda: window.stack.currentWidget() is window.result_page and window.result_page.result)
    grab(window, "result")
    window._certificate(lambda _path: None)  # the status shown while the PDF is fetched
    grab(window, "result-fetching-certificate")
    wait(lambda: not window.result_page.error.text().startswith("Fetching"))
    window.result_page.report.verticalScrollBar().setValue(10_000)
    grab(window, "result-scrolled")
    window.show_sync()
    grab(window, "finished-exams")
    window.show_practice()
    window.practice_page.start()
    wait(lambda: bool(window.practice_page.choices))
    grab(window, "practice")
    window.practice_page.choose(0)
    window.practice_page.submit()
    grab(window, "practice-verdict")
    window.show_display()
    grab(window, "display")
    window.set_display(Display(theme="high_contrast", text_size="large"))
    window.show_home()
    grab(window, "home-high-contrast-large")
    server.should_exit = True
    engine.close()
    print(f"{count} screenshots in {out}")
    del QGuiApplication
    return 0


if __name__ == "__main__":
    sys.exit(main())
