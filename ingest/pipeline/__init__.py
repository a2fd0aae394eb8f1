"""The pipeline: cycles, worker processes, the single writer, metrics, reprocess."""
