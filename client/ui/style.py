"""The app's look: one stylesheet, calm and legible at a distance."""

STYLE = """
QWidget { font-size: 15px; color: #1d2b3a; }
QMainWindow, #page, #exam { background: #f5f7f9; }
QLabel#title { font-size: 26px; font-weight: 600; }
QLabel#subtitle { font-size: 16px; color: #5b6b7a; }
QLabel#error { color: #a12626; font-weight: 500; }
QLabel#stem { font-size: 20px; line-height: 140%; }
QLabel#clock { font-size: 22px; font-weight: 600; font-family: monospace; }
QLabel#clock[urgent="true"] { color: #a12626; }
QLabel#warning { background: #fff3cd; border: 1px solid #e0b84c; border-radius: 6px;
                 padding: 10px 14px; color: #5c4400; font-weight: 500; }
QLabel#verdict { font-size: 17px; font-weight: 600; }
QLabel#level { font-size: 30px; font-weight: 700; color: #1f6f8b; }
QRadioButton, QCheckBox { font-size: 18px; padding: 10px 12px; background: white;
                          border: 1px solid #c9d3dc; border-radius: 6px; }
QRadioButton:checked, QCheckBox:checked { border: 2px solid #1f6f8b; background: #e8f3f7; }
QPushButton { padding: 8px 18px; border-radius: 6px; border: 1px solid #9fb0bf; background: white; }
QPushButton#primary { background: #1f6f8b; color: white; border: none; font-weight: 600; }
QPushButton#primary:disabled { background: #9fb7c2; }
QLineEdit { padding: 8px; border: 1px solid #9fb0bf; border-radius: 6px; background: white; }
QProgressBar { border: none; background: #dde4ea; height: 6px; border-radius: 3px; }
QProgressBar::chunk { background: #1f6f8b; border-radius: 3px; }
QTableWidget { background: white; border: 1px solid #c9d3dc; }
"""
