"""The item bank: the bundled reviewable text files, their loader, and storage in the database."""

from server.bank.model import BankError, BankItem, Option

__all__ = ["BankError", "BankItem", "Option"]
