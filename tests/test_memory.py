"""core/memory.py: a process's resident memory, and the collector's thresholds the API sets."""

from __future__ import annotations

import gc
import os

import pytest

from core import memory


def test_rss_of_this_process_and_of_none():
    assert 10 * 2**20 < (memory.rss_bytes(os.getpid()) or 0) < 8 * 2**30
    assert memory.rss_bytes(2**22 + 12345) is None  # above pid_max: never a process


def test_collector_thresholds_from_the_setting_or_the_default(monkeypatch):
    before = gc.get_threshold()
    try:
        monkeypatch.delenv("PYTAKE_GC_THRESHOLDS", raising=False)
        assert memory.tune_collector() == (50000, 20, 100) == gc.get_threshold()
        monkeypatch.setenv("PYTAKE_GC_THRESHOLDS", "1000,15,12")
        assert memory.tune_collector() == (1000, 15, 12)
        gc.set_threshold(*before)
        monkeypatch.setenv("PYTAKE_GC_THRESHOLDS", "")
        assert memory.tune_collector() == before  # empty: Python's own, untouched
        with pytest.raises(ValueError):
            memory.tune_collector("1000,15")
    finally:
        gc.set_threshold(*before)
