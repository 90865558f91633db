"""The recognizer's ONNX graph, built directly from the network's weights, and its metadata.

Graph: features (B, T, F) float32 and lengths (B,) int32 in; log_probs (B, T, C) and
each layer's hidden states `hidden_<l>` (T, B, 2H) out. Feature standardisation, one
fused bidirectional `LSTM` op per layer (with `sequence_lens`, so padded batches are
exact), the output projection and log-softmax are all inside, so the file alone is the
model. Torch gate order (i, f, g, o) becomes ONNX order (i, o, f, c) here and back in
`state_from_onnx`, which fine-tuning uses to start from any exported model.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from handwriting.recognition.modelfile import float_weights

__all__ = ["build_graph", "state_from_onnx", "read_metadata", "TORCH_TO_ONNX_GATES", "OPSET"]

OPSET = 17
TORCH_TO_ONNX_GATES = [0, 3, 1, 2]  # ONNX gate k is torch gate TORCH_TO_ONNX_GATES[k]
_DIRECTIONS = ("fw", "bw")  # as in handwriting.training.model.DIRECTIONS


def _to_onnx_gates(weight: np.ndarray, hidden: int) -> np.ndarray:
    chunks = weight.reshape(4, hidden, *weight.shape[1:])
    return chunks[TORCH_TO_ONNX_GATES].reshape(weight.shape)


def _to_torch_gates(weight: np.ndarray, hidden: int) -> np.ndarray:
    chunks = weight.reshape(4, hidden, *weight.shape[1:])
    return chunks[np.argsort(TORCH_TO_ONNX_GATES)].reshape(weight.shape)


def build_graph(state: dict[str, np.ndarray], layers: int, hidden: int, metadata: dict[str, str]) -> onnx.ModelProto:
    """ONNX model from a `BiLSTMCTC` state dict (numpy arrays)."""
    init = [
        numpy_helper.from_array(state["feature_mean"].astype(np.float32), "feature_mean"),
        numpy_helper.from_array(state["feature_std"].astype(np.float32), "feature_std"),
        numpy_helper.from_array(np.array([0, 0, -1], np.int64), "merge_directions_shape"),
        numpy_helper.from_array(state["output.weight"].T.astype(np.float32).copy(), "output_weight"),
        numpy_helper.from_array(state["output.bias"].astype(np.float32), "output_bias"),
    ]
    nodes = [
        helper.make_node("Sub", ["features", "feature_mean"], ["centred"]),
        helper.make_node("Div", ["centred", "feature_std"], ["standardised"]),
        helper.make_node("Transpose", ["standardised"], ["layer_input_0"], perm=[1, 0, 2]),
    ]
    for layer in range(layers):
        w = np.stack([_to_onnx_gates(state[_key(layer, d, "weight_ih")], hidden) for d in _DIRECTIONS])
        r = np.stack([_to_onnx_gates(state[_key(layer, d, "weight_hh")], hidden) for d in _DIRECTIONS])
        b = np.stack([
            np.concatenate([_to_onnx_gates(state[_key(layer, d, "bias_ih")], hidden),
                            _to_onnx_gates(state[_key(layer, d, "bias_hh")], hidden)])
            for d in _DIRECTIONS
        ])
        init += [numpy_helper.from_array(a.astype(np.float32), f"{n}_{layer}") for a, n in ((w, "W"), (r, "R"), (b, "B"))]
        nodes += [
            helper.make_node(
                "LSTM", [f"layer_input_{layer}", f"W_{layer}", f"R_{layer}", f"B_{layer}", "lengths"],
                [f"lstm_out_{layer}"], name=f"lstm_{layer}", hidden_size=hidden, direction="bidirectional",
            ),
            helper.make_node("Transpose", [f"lstm_out_{layer}"], [f"directions_last_{layer}"], perm=[0, 2, 1, 3]),
            helper.make_node("Reshape", [f"directions_last_{layer}", "merge_directions_shape"], [f"hidden_{layer}"]),
        ]
        if layer + 1 < layers:
            nodes.append(helper.make_node("Identity", [f"hidden_{layer}"], [f"layer_input_{layer + 1}"]))
    nodes += [
        helper.make_node("MatMul", [f"hidden_{layers - 1}", "output_weight"], ["logits_tb"]),
        helper.make_node("Add", ["logits_tb", "output_bias"], ["logits_biased"]),
        helper.make_node("LogSoftmax", ["logits_biased"], ["log_probs_tb"], axis=2),
        helper.make_node("Transpose", ["log_probs_tb"], ["log_probs"], perm=[1, 0, 2]),
    ]
    num_features = state["feature_mean"].shape[0]
    num_classes = state["output.bias"].shape[0]
    inputs = [
        helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", "time", num_features]),
        helper.make_tensor_value_info("lengths", TensorProto.INT32, ["batch"]),
    ]
    outputs = [helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, ["batch", "time", num_classes])]
    outputs += [
        helper.make_tensor_value_info(f"hidden_{layer}", TensorProto.FLOAT, ["time", "batch", 2 * hidden])
        for layer in range(layers)
    ]
    graph = helper.make_graph(nodes, "bilstm_ctc", inputs, outputs, init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="handwriting")
    model.ir_version = 8
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return model


def read_metadata(model: onnx.ModelProto) -> dict[str, str]:
    return {p.key: p.value for p in model.metadata_props}


def state_from_onnx(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """The `BiLSTMCTC` state dict (numpy) that `build_graph` was made from."""
    weights = float_weights(model)
    config = json.loads(read_metadata(model)["model_config"])
    hidden = config["hidden"]
    state = {
        "feature_mean": weights["feature_mean"],
        "feature_std": weights["feature_std"],
        "output.weight": weights["output_weight"].T.copy(),
        "output.bias": weights["output_bias"],
    }
    for layer in range(config["layers"]):
        for d, direction in enumerate(_DIRECTIONS):
            state[_key(layer, direction, "weight_ih")] = _to_torch_gates(weights[f"W_{layer}"][d], hidden)
            state[_key(layer, direction, "weight_hh")] = _to_torch_gates(weights[f"R_{layer}"][d], hidden)
            b = weights[f"B_{layer}"][d]
            state[_key(layer, direction, "bias_ih")] = _to_torch_gates(b[: 4 * hidden], hidden)
            state[_key(layer, direction, "bias_hh")] = _to_torch_gates(b[4 * hidden:], hidden)
    return state


def _key(layer: int, direction: str, name: str) -> str:
    """State-dict key of one LSTM tensor of `BiLSTMCTC`."""
    return f"layers.{layer}.{direction}.{name}_l0"
