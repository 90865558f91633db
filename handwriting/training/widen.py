"""Widen a trained network to more LSTM units without changing what it computes (Net2Net-style).

The new units start with random incoming weights (PyTorch's LSTM initialisation) and zero
outgoing ones: no existing unit and not the output layer reads them yet, so the widened
network's outputs are exactly the original's, and training then puts the new units to use.
A longer run can so start from a trained smaller network instead of from scratch.
"""

from __future__ import annotations

import math

import torch

from handwriting.errors import HandwritingError
from handwriting.training.model import DIRECTIONS

__all__ = ["widened", "WIDENING_SEED"]

WIDENING_SEED = 0  # fixed, so that runs of several seeds from one checkpoint start from the same network
GATES = 4  # PyTorch's LSTM stacks the input, forget, cell and output gates' rows


def _bidirectional_columns(old: int, new: int) -> torch.Tensor:
    """Where the columns of a [forward | backward] input of `old` units per direction go in one of `new`."""
    return torch.cat([torch.arange(old), new + torch.arange(old)])


def _gate_rows(old: int, new: int) -> torch.Tensor:
    """Where the rows of the `old` units of each gate go among the gates' rows of `new` units."""
    return torch.cat([gate * new + torch.arange(old) for gate in range(GATES)])


def _embed(old: torch.Tensor, fresh: torch.Tensor, rows: torch.Tensor | None, columns: torch.Tensor | None) -> torch.Tensor:
    """`fresh`, with the old units' rows set to `old` in the old columns and to zero in the new ones."""
    out = fresh.clone()
    row_index = rows if rows is not None else torch.arange(old.shape[0])
    if old.dim() == 1:
        out[row_index] = old
        return out
    column_index = columns if columns is not None else torch.arange(old.shape[1])
    out[row_index] = 0.0
    out[row_index[:, None], column_index[None, :]] = old
    return out


def widened(checkpoint: dict, hidden: int) -> dict:
    """`checkpoint` (as `train` writes it) with `hidden` units per direction instead of its own."""
    config = dict(checkpoint["model_config"])
    old = config["hidden"]
    if hidden < old:
        raise HandwritingError(f"cannot narrow a network of {old} units to {hidden}")
    if hidden == old:
        return checkpoint
    generator = torch.Generator().manual_seed(WIDENING_SEED)
    bound = 1.0 / math.sqrt(hidden)

    def fresh(*shape: int) -> torch.Tensor:
        return (torch.rand(*shape, generator=generator, dtype=torch.float32) * 2 - 1) * bound

    state = dict(checkpoint["model"])
    rows, stacked_inputs = _gate_rows(old, hidden), _bidirectional_columns(old, hidden)
    for layer in range(config["layers"]):
        for direction in DIRECTIONS:
            prefix = f"layers.{layer}.{direction}."
            weight_ih = state[prefix + "weight_ih_l0"]
            inputs, input_columns = (weight_ih.shape[1], None) if layer == 0 else (2 * hidden, stacked_inputs)
            state[prefix + "weight_ih_l0"] = _embed(weight_ih, fresh(GATES * hidden, inputs), rows, input_columns)
            state[prefix + "weight_hh_l0"] = _embed(state[prefix + "weight_hh_l0"], fresh(GATES * hidden, hidden), rows, None)
            for bias in ("bias_ih_l0", "bias_hh_l0"):
                state[prefix + bias] = _embed(state[prefix + bias], fresh(GATES * hidden), rows, None)
    output = state["output.weight"]
    state["output.weight"] = _embed(output, torch.zeros(output.shape[0], 2 * hidden), None, stacked_inputs)
    return {**checkpoint, "model": state, "model_config": {**config, "hidden": hidden}}
