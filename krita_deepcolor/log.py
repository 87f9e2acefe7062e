"""Lines for Krita's terminal output.

Krita's Python often runs with an ASCII stdout/stderr (no UTF-8 locale), where print() of a
layer name such as "Deepcolor · model" raises, and inside a Qt slot Krita turns that into an
error dialog. Characters the stream cannot encode are escaped instead.
"""

import sys


def log(text: str) -> None:
    stream = sys.stderr
    encoding = getattr(stream, "encoding", None) or "ascii"
    line = f"krita-deepcolor: {text}\n".encode(encoding, "backslashreplace").decode(encoding)
    stream.write(line)
    stream.flush()
