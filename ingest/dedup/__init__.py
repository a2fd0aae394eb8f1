"""Deduplication: MinHash signatures, the LSH index and the pure tier decision."""
