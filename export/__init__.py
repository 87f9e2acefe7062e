"""PyTorch toolchain: training data, networks, training and checkpoint -> ONNX conversion.

Imports ``krita_deepcolor.engine`` for the one definition of how line art and hints are read;
nothing in the plugin imports this package.
"""
