"""krita-deepcolor: colour line art in Krita with a local ONNX generator.

Inside Krita this package registers the docker and actions; anywhere else (the command
line, tests, the training toolchain) importing it has no side effects.
"""

try:
    import krita  # noqa: F401  (only present inside Krita)
except ImportError:
    krita = None
