"""Reading ink: features, lines of a page, the ONNX model, decoders, the language model and explanations.

Everything here runs on numpy, numba and onnxruntime alone; nothing imports torch or Qt.
"""
