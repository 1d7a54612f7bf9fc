"""How many threads PyTorch uses, for the length of a block.

Tiny networks (a character at a time, a playground's few neurons, an autoencoder's small
batch) run many times faster on one thread than on two, where waiting for the second thread
costs more than it saves. PyTorch's thread count belongs to the whole process, so every change
is undone when the block ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["torch_threads"]


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run PyTorch on ``n`` threads inside the block; the previous number is restored after."""
    import torch

    before = torch.get_num_threads()
    if before != n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
