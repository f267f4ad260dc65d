"""What the client and the server both import: data types, canonical JSON, crypto recipes.

Nothing here does I/O or imports Qt, Starlette or SQLAlchemy.
"""
