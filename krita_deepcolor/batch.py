"""Colorize all open documents: which are left, what became of the others, and the counts and
summary the docker shows. Krita-free: documents are opaque items here, and their names are
handed in by the caller."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Batch:
    pending: list  # documents not started yet, in order
    total: int
    coloured: list = field(default_factory=list)  # document names
    skipped: list = field(default_factory=list)  # (document name, reason)

    @classmethod
    def of(cls, documents) -> Batch:
        documents = list(documents)
        return cls(pending=documents, total=len(documents))

    @property
    def done(self) -> int:
        return len(self.coloured) + len(self.skipped)

    def take(self):
        """The next document to colour (removed from ``pending``), or None when none is left."""
        return self.pending.pop(0) if self.pending else None

    def finished(self, name: str, added: bool, message: str) -> None:
        """Record the outcome of the document that was running."""
        if added:
            self.coloured.append(name)
        else:
            self.skipped.append((name, message))

    def skip(self, name: str, reason: str) -> None:
        self.skipped.append((name, reason))

    def cancel(self, waiting_names) -> None:
        """Nothing more starts; the documents that were waiting are listed as cancelled."""
        self.skipped += [(name, "cancelled") for name in waiting_names]
        self.pending = []

    def position(self) -> str:
        """Where the running document stands, e.g. "2/5"."""
        return f"{self.done + 1}/{self.total}"

    def overall(self, fraction: float) -> float:
        """The whole batch's progress in [0, 1] while the running document is at ``fraction``."""
        return (self.done + fraction) / self.total

    def summary(self) -> str:
        """A headline, then one line per skipped document with the reason."""
        lines = [f"Coloured {len(self.coloured)} of {self.total} open documents."]
        lines += [f"Skipped '{name}': {reason}" for name, reason in self.skipped]
        return "\n".join(lines)
