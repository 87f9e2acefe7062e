"""Enable Python plugins in a kritarc: ``enable_plugins.py KRITARC NAME...``.

Krita loads a plugin from pykrita only with ``enable_<name>=true`` in the ``[python]`` group.
The file is edited as text: Krita's own keys stay untouched.
"""

import sys
from pathlib import Path


def enable(kritarc: Path, names: list[str]) -> None:
    lines = kritarc.read_text(encoding="utf-8").splitlines() if kritarc.exists() else []
    wanted = [f"enable_{name}=true" for name in names]
    keys = {line.split("=", 1)[0] for line in wanted}
    if "[python]" not in lines:
        lines += ["", "[python]"]
    start = lines.index("[python]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    section = [line for line in lines[start:end] if line.split("=", 1)[0] not in keys and line.strip()]
    lines[start:end] = section + wanted + [""]
    kritarc.parent.mkdir(parents=True, exist_ok=True)
    kritarc.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    enable(Path(sys.argv[1]), sys.argv[2:])
