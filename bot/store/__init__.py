"""Session stores: one interface (`base.SessionStore`), an embedded in-memory default and Redis."""
