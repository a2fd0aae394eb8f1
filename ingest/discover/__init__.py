"""Discovery: sources (feeds, sitemaps, pages) read into links, with per-source backoff."""
