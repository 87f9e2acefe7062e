"""Krita-free core of krita-deepcolor: numpy + onnxruntime + OpenCV, arrays in, arrays out.

Never imports ``krita`` or ``torch``.
"""

from .contract import CONTRACT_VERSION, ModelInfo
from .errors import Cancelled, ContractError, DeviceError, EngineError, InputError
from .pipeline import Options, Result, colorize
from .runtime import CancelToken, Model, load_model

__all__ = ["CONTRACT_VERSION", "ModelInfo", "Cancelled", "ContractError", "DeviceError",
           "EngineError", "InputError", "Options", "Result", "colorize", "CancelToken", "Model",
           "load_model"]
