"""Japanese text as the core reads it: normalising, morphemes, numbers with counters, the main predicate,
and what looks like a secret. Knows nothing of flows or sessions."""
