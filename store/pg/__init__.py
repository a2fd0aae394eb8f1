"""The PostgreSQL backend: many workers, on many machines, on one shared store."""
