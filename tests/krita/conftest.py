"""The suites below run inside Krita (``tests/krita/run.sh``); any other Python skips them."""

try:
    import krita  # noqa: F401
except ImportError:
    collect_ignore = ["runner", "gui", "harness"]
