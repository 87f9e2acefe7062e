"""Fixtures for the kritarunner suite: fresh settings, documents that are closed afterwards."""

import pytest
from krita import Krita

from krita_deepcolor.colorizer import Colorizer
from krita_deepcolor.engine.runtime import load_model
from krita_deepcolor.settings import Settings
from tests.krita.helpers import MODELS_DIR, close, new_document, wait_until
from tests.krita.models import PASSTHROUGH


@pytest.fixture(scope="session", autouse=True)
def _models_exist():
    assert (MODELS_DIR / "passthrough.onnx").is_file(), (
        f"no test models in {MODELS_DIR}: run the suites with tests/krita/run.sh")


@pytest.fixture
def make_doc():
    made = []

    def make(*args, **kwargs):
        doc = new_document(*args, **kwargs)
        made.append(doc)
        return doc
    yield make
    for doc in made:
        close(doc)
    leftovers = [doc.name() for doc in Krita.instance().documents()]
    assert not leftovers, f"documents left open (conversion documents must be closed): {leftovers}"


@pytest.fixture
def colorizer():
    # the test model by name: a shipped default model would otherwise come first
    Settings(models_dir=str(MODELS_DIR), model=PASSTHROUGH).save()
    colorizer = Colorizer()
    yield colorizer
    if colorizer.busy:
        colorizer.cancel()
        wait_until(lambda: not colorizer.busy, 30, "the cancelled job to stop")
    colorizer.deleteLater()


@pytest.fixture(scope="session")
def passthrough():
    return load_model(MODELS_DIR / "passthrough.onnx", device="cpu")
