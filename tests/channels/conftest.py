"""Fixtures for the channel tests.

`redis_url` lives in tests/store/conftest.py until it moves to tests/conftest.py; importing it here
makes it visible to tests/channels (it fails, not skips, under CI=true when no Redis can be had).
Once it has moved, the import fails and the shared fixture is used instead.
"""

from __future__ import annotations

try:
    from tests.store.conftest import redis_url
except ImportError:  # moved to tests/conftest.py: nothing to re-export
    pass
else:
    __all__ = ["redis_url"]
