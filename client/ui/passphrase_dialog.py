"""Where the computer has no system keyring: the device's keys are kept in a file encrypted
under a passphrase the candidate chooses (asked twice the first time), and asked for at each
start."""

from __future__ import annotations

from pathlib import Path

from client.errors import WrongPassphrase
from client.keystore import MIN_PASSPHRASE, PassphraseKeyStore, load_or_create
from client.ui.errors import describe
from client.ui.qt import QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout
from client.ui.widgets import button, field, label


class PassphraseDialog(QDialog):
    def __init__(self, home: Path) -> None:
        super().__init__()
        self.home = home
        self.store: PassphraseKeyStore | None = None
        self.new = not PassphraseKeyStore.exists(home)
        self.setWindowTitle("examgate: passphrase")
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        title = "Choose a passphrase" if self.new else "Enter your passphrase"
        layout.addWidget(label(title, name="title"))
        layout.addWidget(
            label(
                "This computer has no system keyring, so examgate keeps its keys in a file "
                "locked with a passphrase you choose. You need it each time examgate starts; "
                f"use at least {MIN_PASSPHRASE} characters and keep it to yourself."
                if self.new
                else "examgate keeps this computer's keys in a file locked with the passphrase "
                "you chose. Type it to continue.",
                name="subtitle",
                wrap=True,
            )
        )
        form = QFormLayout()
        self.passphrase = field("Passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        first = QLabel("&Passphrase")
        first.setBuddy(self.passphrase)
        form.addRow(first, self.passphrase)
        self.again = field("Passphrase again")
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        second = QLabel("&Again")
        second.setBuddy(self.again)
        if self.new:
            form.addRow(second, self.again)
        layout.addLayout(form)
        self.error = label(name="error", wrap=True)
        self.error.setAccessibleName("Passphrase status")
        layout.addWidget(self.error)
        row = QHBoxLayout()
        quit_button = button("Quit")
        quit_button.clicked.connect(self.reject)
        self.ok_button = button("Continue", primary=True)
        self.ok_button.clicked.connect(self.submit)
        self.passphrase.returnPressed.connect(self.submit)
        self.again.returnPressed.connect(self.submit)
        row.addWidget(quit_button)
        row.addStretch()
        row.addWidget(self.ok_button)
        layout.addLayout(row)
        self.passphrase.setFocus()

    def submit(self) -> None:
        text = self.passphrase.text()
        if self.new:
            if len(text) < MIN_PASSPHRASE:
                self.error.setText(f"Use at least {MIN_PASSPHRASE} characters.")
                return
            if text != self.again.text():
                self.error.setText("The two passphrases differ. Type the same one twice.")
                self.again.selectAll()
                self.again.setFocus()
                return
        store = PassphraseKeyStore(self.home, text)
        try:
            load_or_create(store)
        except WrongPassphrase as error:
            self.error.setText(str(error))
            self.passphrase.selectAll()
            self.passphrase.setFocus()
            return
        except Exception as error:  # a damaged file: said as a sentence
            self.error.setText(describe(error))
            return
        self.store = store
        self.accept()
