"""PyTorch toolchain: training data, networks, training and checkpoint -> ONNX conversion.

Imports ``krita_deepcolor.engine`` for the one definition of how line art and hints are read;
nothing in the plugin imports this package, and it imports nothing from ``benchmarks/`` (which
uses it). One home each: a variant's recipe in ``variants.py``, the options in ``config.py``,
the checkpoint format in ``checkpoints.py``, the training loop in ``train.py``.
"""
