"""The vde app has no tables, so no migrations; Piccolo still wants the folder."""
