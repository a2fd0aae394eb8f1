"""Cleaning: in-body boilerplate removed, each removal explained; the text's language."""
