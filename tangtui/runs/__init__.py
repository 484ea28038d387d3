"""Runs: the SQLite store, the detached trainer process, its lock and hooks, and checkpoint lookup.

The app and the CLI only read what a trainer writes here; nothing in this package imports textual.
"""
