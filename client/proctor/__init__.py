"""Lockdown and monitoring during a sitting; each watcher turns what it sees into journal events."""
