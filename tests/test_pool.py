"""Chunks on all cores: every chunk runs once, here or in a worker, and errors surface."""

import os
import time

import pytest

from mgrisk._pool import run_chunks


def _where(chunk):
    time.sleep(0.2)
    return chunk, os.getpid()


def _fails_on_last(chunk):
    if chunk == 5:
        raise ValueError("chunk 5")
    return chunk


def test_this_process_and_a_worker_share_the_chunks():
    out = list(run_chunks(_where, list(range(12)), jobs=2))
    assert sorted(chunk for chunk, _ in out) == list(range(12))
    pids = {pid for _, pid in out}
    assert len(pids) == 2 and os.getpid() in pids


def test_an_error_in_a_chunk_surfaces():
    with pytest.raises(ValueError, match="chunk 5"):
        list(run_chunks(_fails_on_last, list(range(6)), jobs=2))
