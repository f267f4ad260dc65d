"""The bundled client's entry point (PyInstaller runs this file as ``__main__``)."""

import sys

from client.cli import main

if __name__ == "__main__":
    sys.exit(main())
