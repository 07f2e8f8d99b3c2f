"""Shared library of the after-sales platform.

What all four services need and nothing more: event contracts (``contracts``), the
reliability core (``outbox``, ``inbox``, ``messaging``), the database provider (``db``),
configuration, authentication, metrics and logging helpers.
"""
