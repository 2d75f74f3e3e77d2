"""Streams for the recipient-reader tests: trickling reads, lazy huge files, read accounting."""

from __future__ import annotations

from collections.abc import Iterator


class TrickleStream:
    """Hands out at most `step` bytes per read, like a slow network body, and counts what it served."""

    def __init__(self, data: bytes, step: int = 7):
        self.data = data
        self.step = step
        self.pos = 0
        self.reads = 0

    def read(self, n: int = -1) -> bytes:
        self.reads += 1
        size = self.step if n is None or n < 0 else min(n, self.step)
        chunk = self.data[self.pos : self.pos + size]
        self.pos += len(chunk)
        return chunk


class GeneratedStream:
    """A file that exists only as a generator of byte blocks; `served` says how much has been read."""

    def __init__(self, blocks: Iterator[bytes]):
        self.blocks = blocks
        self.buffer = b""
        self.served = 0
        self.exhausted = False

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            raise AssertionError("the reader asked for the whole stream at once")
        while len(self.buffer) < n and not self.exhausted:
            block = next(self.blocks, None)
            if block is None:
                self.exhausted = True
            else:
                self.buffer += block
        chunk, self.buffer = self.buffer[:n], self.buffer[n:]
        self.served += len(chunk)
        return chunk


def repeated_rows(header: bytes, row: bytes, count: int, per_block: int = 1000) -> Iterator[bytes]:
    yield header
    full, rest = divmod(count, per_block)
    block = row * per_block
    for _ in range(full):
        yield block
    yield row * rest
