"""Stable hashes of JSON-able configs: cache keys, row keys (``config_id``) and generator seeds."""
from __future__ import annotations

import hashlib
import json
from typing import Any


def config_hash(obj: Any, length: int = 12) -> str:
    """Short SHA-256 of a JSON-serializable config (keys sorted)."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:length]
