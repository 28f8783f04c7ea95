"""``python -m ferroflow run prog.py [args...]``: see :mod:`ferroflow.cli`."""

from ferroflow.cli import console_main

if __name__ == "__main__":
    console_main()
