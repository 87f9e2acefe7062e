"""Device choice and cancellation on real onnxruntime sessions."""

import sys
import threading

import numpy as np
import onnxruntime
import pytest

from krita_deepcolor.engine import Cancelled, CancelToken, DeviceError, catalog, load_model, runtime

HAS_CUDA_BUILD = "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def test_auto_reports_the_provider_the_session_really_uses(model_path):
    model = load_model(model_path, device="auto")
    assert model.provider == {runtime.CUDA: "CUDA", runtime.CPU: "CPU"}[model.session.get_providers()[0]]


def test_cpu_is_always_available(model_path):
    assert load_model(model_path, device="cpu").provider == "CPU"


def test_unknown_device_is_refused(model_path):
    with pytest.raises(DeviceError, match="choose one of auto, cuda, cpu"):
        load_model(model_path, device="tpu")


@pytest.mark.skipif(HAS_CUDA_BUILD, reason="this onnxruntime build has CUDA; covered on GPU machines")
def test_cuda_without_a_cuda_build_says_why_in_one_line(model_path):
    with pytest.raises(DeviceError) as error:
        load_model(model_path, device="cuda")
    message = str(error.value)
    assert "onnxruntime-gpu" in message and "\n" not in message


def test_cuda_failure_paths_explain_the_fix(monkeypatch, model_path):
    """onnxruntime-gpu on a machine without CUDA: providers list CUDA, the session falls back.

    The real CUDA package cannot be installed beside onnxruntime, so the build's provider list
    is the one thing replaced here; the session is real and really runs on CPU.
    """
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: [runtime.CUDA, runtime.CPU])
    assert load_model(model_path, device="auto").provider == "CPU"
    with pytest.raises(DeviceError, match="could not load CUDA .*onnxruntime-gpu\\[cuda,cudnn\\]"):
        load_model(model_path, device="cuda")


def test_cancel_before_run_raises_cancelled(model_path):
    model = load_model(model_path, device="cpu")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        model.run(np.ones((1, 1, 8, 8), np.float32), np.zeros((1, 4, 8, 8), np.float32), token)


def test_cancel_from_another_thread_stops_a_running_session(model_path):
    model = load_model(model_path, device="cpu", threads=1)
    size = 2048  # long enough that the cancel lands mid-run
    line = np.ones((1, 1, size, size), np.float32)
    hint = np.zeros((1, 4, size, size), np.float32)
    token = CancelToken()
    outcome = {}

    def work():
        try:
            for _ in range(50):
                model.run(line, hint, token)
            outcome["result"] = "finished"
        except Cancelled:
            outcome["result"] = "cancelled"

    worker = threading.Thread(target=work)
    worker.start()
    threading.Timer(0.05, token.cancel).start()
    worker.join(timeout=30)
    assert outcome.get("result") == "cancelled"


def test_without_onnxruntime_a_user_model_is_listed_as_unusable_with_the_fix(monkeypatch, model_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # "import onnxruntime" now fails
    monkeypatch.setattr(catalog, "SHIPPED_DIRS", ())
    (entry,) = catalog.find_models([model_path.parent])
    assert entry.info is None and entry.name == "passthrough"
    assert entry.problem.startswith(f"{model_path}: onnxruntime is not installed")
    assert "python installer.py" in entry.problem and "pip install onnxruntime" in entry.problem
