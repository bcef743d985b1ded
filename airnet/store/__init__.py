"""Everything a run persists: atomic file writes, the cache of trained models and small memos (keyed by config
hash), and the resumable results table ``results.csv``."""
from airnet.store.artifacts import JsonMemo, ModelCache
from airnet.store.files import atomic_write
from airnet.store.results import ResultTable

__all__ = ["JsonMemo", "ModelCache", "ResultTable", "atomic_write"]
