"""Errors the engine raises. Every message is one line a user can act on."""


class EngineError(Exception):
    """Base class: anything the CLI or the plugin shows to the user as-is."""


class ContractError(EngineError):
    """An ONNX file does not obey the model contract (see contract.py)."""


class InputError(EngineError):
    """Line art, hints or options that the engine cannot use."""


class NoHints(InputError):
    """Flat colours were asked for with no hint strokes to take them from."""

    def __init__(self):
        super().__init__(
            "no hint strokes: flat colours come from your strokes (a short stroke in each area, in "
            "its colour, on a transparent hints layer); without any, the network's guesses are "
            "wrong too often to keep (the raw network output shows them)")


class DeviceError(EngineError):
    """The requested execution device cannot run the model."""


class Cancelled(EngineError):
    """The caller cancelled a run; nothing was produced."""
