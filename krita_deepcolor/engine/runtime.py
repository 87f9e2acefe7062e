"""Open contract-conformant ONNX files with onnxruntime on CUDA or CPU.

Works with either the ``onnxruntime`` or the ``onnxruntime-gpu`` package. The provider
actually used is read back from the created session: ``get_available_providers()`` lists
CUDA in every onnxruntime-gpu build, GPU or not, so it cannot be trusted.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .contract import ModelInfo, check_signature
from .errors import Cancelled, ContractError, DeviceError

DEVICES = ("auto", "cuda", "cpu")
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
_SERIALS = itertools.count(1)


def _ort():
    import onnxruntime  # imported late: a missing install must become a readable error
    return onnxruntime


@contextmanager
def _quiet_onnxruntime():
    """Silence onnxruntime's own log lines (e.g. missing CUDA libraries) while a session is made."""
    ort = _ort()
    ort.set_default_logger_severity(4)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        ort.set_default_logger_severity(3)


class CancelToken:
    """Shared between the UI thread (cancel) and the worker (checks, running sessions)."""

    def __init__(self):
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._run_options = []

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            for options in self._run_options:
                options.terminate = True

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled")

    @contextmanager
    def watching(self, run_options):
        """Terminate ``run_options`` if cancel() is called while the block runs."""
        with self._lock:
            self._run_options.append(run_options)
            run_options.terminate = self._event.is_set()
        try:
            yield
        finally:
            with self._lock:
                self._run_options.remove(run_options)


@dataclass
class Model:
    """A loaded generator: ``run(line, hint) -> color`` on the contract's arrays."""

    path: Path
    info: ModelInfo
    session: object
    provider: str  # "CUDA" or "CPU", what the session really uses
    serial: int = field(default_factory=lambda: next(_SERIALS))  # tells loaded models apart

    def run(self, line: np.ndarray, hint: np.ndarray, cancel: CancelToken | None = None) -> np.ndarray:
        """line [N,1,H,W], hint [N,4,H,W] float32 -> color [N,3,H,W] float32 in [0,1]."""
        multiple = self.info.size_multiple
        if line.shape[2] % multiple or line.shape[3] % multiple:
            raise ValueError(f"working size {line.shape[2:]} is not a multiple of {multiple}")
        ort = _ort()
        options = ort.RunOptions()
        feeds = {"line": np.ascontiguousarray(line, np.float32),
                 "hint": np.ascontiguousarray(hint, np.float32)}
        token = cancel or CancelToken()
        token.check()
        try:
            with token.watching(options):
                (color,) = self.session.run(["color"], feeds, options)
        except Exception:
            token.check()  # a terminated run surfaces as an onnxruntime error: report it as a cancel
            raise
        return np.clip(color, 0.0, 1.0)


def _session_options(threads: int | None):
    ort = _ort()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    return options


def _create_session(path: Path, providers: list[str], threads: int | None):
    ort = _ort()
    with _quiet_onnxruntime():
        return ort.InferenceSession(str(path), sess_options=_session_options(threads),
                                    providers=providers)


def _cuda_unavailable_reason() -> str:
    ort = _ort()
    if CUDA not in ort.get_available_providers():
        return ("this onnxruntime build has no CUDA support (install onnxruntime-gpu instead "
                "of onnxruntime, never both)")
    return ("onnxruntime-gpu could not load CUDA (no NVIDIA GPU or driver, or the CUDA/cuDNN "
            "libraries are missing: install onnxruntime-gpu[cuda,cudnn])")


def open_session(path: Path, device: str = "auto", threads: int | None = None):
    """Create an InferenceSession on ``device``; returns (session, provider label)."""
    if device not in DEVICES:
        raise DeviceError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    try:
        ort = _ort()
    except ImportError as exc:
        raise DeviceError(f"onnxruntime is not installed ({exc}): for Krita run 'python installer.py' "
                          "from the plugin's source folder and restart Krita; for the command line "
                          "pip install onnxruntime") from None
    if device in ("auto", "cuda") and CUDA in ort.get_available_providers():
        try:
            session = _create_session(path, [CUDA, CPU], threads)
        except Exception as exc:  # noqa: BLE001 - any CUDA failure means: fall back or explain
            if device == "cuda":
                raise DeviceError(f"CUDA was requested but cannot run: {exc}") from None
        else:
            if session.get_providers()[0] == CUDA:
                return session, "CUDA"
            if device == "cuda":
                raise DeviceError("CUDA was requested but " + _cuda_unavailable_reason())
            return session, "CPU"  # the session already fell back to CPU: reuse it
    elif device == "cuda":
        raise DeviceError("CUDA was requested but " + _cuda_unavailable_reason())
    return _create_session(path, [CPU], threads), "CPU"


def _describe(args):
    return [(a.name, a.type, list(a.shape)) for a in args]


def load_model(path, device: str = "auto", threads: int | None = None) -> Model:
    """Open ``path``, check it against the contract, and return a ready Model."""
    path = Path(path)
    if not path.is_file():
        raise ContractError(f"{path}: model file not found")
    try:
        session, provider = open_session(path, device, threads)
    except (DeviceError, ContractError):
        raise
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises several types for bad files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ContractError(f"{path}: not a readable ONNX model ({first})") from None
    check_signature(_describe(session.get_inputs()), _describe(session.get_outputs()),
                    source=str(path))
    info = ModelInfo.from_props(dict(session.get_modelmeta().custom_metadata_map), source=str(path))
    return Model(path=path, info=info, session=session, provider=provider)
