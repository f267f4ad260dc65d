"""The examgate server: a Starlette app, its storage, the item bank, assembly, scoring and CLI."""
