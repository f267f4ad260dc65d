"""The desktop app: PySide6 windows that render engine state and forward what the candidate does."""
