"""Fixtures for the GUI suite, which runs inside the full Krita app with the plugin installed."""

import pytest
from krita import Krita

from krita_deepcolor.extension import DOCKER_ID
from krita_deepcolor.picking import AUTO
from krita_deepcolor.root import shared_colorizer
from krita_deepcolor.settings import Settings
from tests.krita.helpers import MODELS_DIR, close, new_document, settle, wait_until
from tests.krita.models import PASSTHROUGH


@pytest.fixture(scope="session")
def window():
    wait_until(lambda: Krita.instance().activeWindow() is not None, 30, "Krita's main window")
    return Krita.instance().activeWindow()


@pytest.fixture(scope="session")
def docker(window):
    dockers = Krita.instance().dockers()  # those of the active window
    found = [dock for dock in dockers if dock.objectName() == DOCKER_ID]
    assert found, f"no Deepcolor docker among {[dock.objectName() for dock in dockers]}"
    dock = found[0]
    dock.show()
    return dock


@pytest.fixture
def colorizer(docker):
    colorizer, problem = shared_colorizer()
    assert colorizer is not None, problem
    defaults = Settings(models_dir=str(MODELS_DIR), model=PASSTHROUGH)  # not a shipped default
    colorizer.update_settings(**vars(defaults))
    colorizer.summary = ""
    docker.panel.refresh_models(rescan=True)
    docker.panel.refresh_layers()
    yield colorizer
    if colorizer.busy:
        colorizer.cancel()
        wait_until(lambda: not colorizer.busy, 30, "the cancelled job to stop")
    colorizer.set_picks(AUTO, AUTO)


@pytest.fixture
def open_doc(window):
    """Create documents shown in views of the main window (so that they can be active)."""
    made = []

    def make(*args, **kwargs):
        doc = new_document(*args, **kwargs)
        made.append(doc)
        window.addView(doc)
        wait_until(lambda: Krita.instance().activeDocument() == doc, 10, "the new view to be active")
        return doc
    yield make
    for doc in made:
        close(doc)
    settle(0.2)
