"""The ``vde`` Piccolo app: no tables, only commands (``piccolo vde ...``)."""
