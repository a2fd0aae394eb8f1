"""Extraction: raw HTML decoded and read into a title, metadata and typed body blocks."""
