"""Making models: the torch network, corpus preparation, augmentation, training, fine-tuning and ONNX export.

This side needs torch; the recognition side never imports it.
"""
