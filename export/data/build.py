"""Fetched packages (or a folder of images) -> a dataset folder of line/colour pairs.

Layout and manifest are the contract with ``dataset.PairDataset`` and the trainer:
``OUT/{train,val}/<id>.color.png`` (RGBA), ``OUT/{train,val}/<id>.line.png`` (gray, 255 paper) and
``OUT/manifest.json``. The build runs in ``OUT.partial`` and logs every finished file there, so a
killed build resumes where it stopped; the finished folder, log included, replaces ``OUT`` in one
step. The next build starts from it (its pairs hard-linked, never rewritten), so adding a package
renders only that package.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import struct
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from krita_deepcolor.engine import imageio, imaging, plan

from . import images, lines, rcc, svg
from .fetch import read_marker
from .sources import SOURCES, THEME_OBJECTS, unpacked_root

SVG_SUFFIXES = {".svg", ".svgz"}
RASTER_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
VAL_PER_MILLE = 50  # about 5 % of the files go to validation, with all their sizes
DEFAULT_SIZES = (384, 512)
MIN_SIDE = 128  # rasters smaller than this (icons, game sprites) are not art to colour
FOLDER_LICENSE = "unknown (the user's own folder)"

# what makes an image worth training on; each failure is a counted skip reason
MIN_FIGURE_PIXELS = 64 * 64
MIN_COLOURFUL = 0.08
MIN_FLAT = 0.55
MAX_COLOURS = 3000
MIN_INK = 0.004
MAX_INK = 0.35
MIN_OUTLINE_COVERAGE = 0.75
MIN_ELEMENT_SHARE = 1 / 64  # of the longer side of its page
# two elements of one source whose shapes (by geometry) overlap this much are one drawing
DUPLICATE_SHARE = 0.7
LOG_NAME = "progress.jsonl"


class Skip(Exception):
    """This file gives no sample; the message is the counted reason."""


@dataclass(frozen=True)
class Item:
    """One picture: an art file on disk (``path``) or inside a bundle (``data``), or one element
    (by id) of a multi-picture SVG; ``origin`` names it (``file#id`` for an element)."""

    source: str
    origin: str
    kind: str  # "svg" | "raster"
    painted: bool = False
    path: str | None = None
    data: bytes | None = None
    element: str | None = None

    def read(self) -> bytes:
        return self.data if self.data is not None else Path(self.path).read_bytes()

    @property
    def digest(self) -> str:
        return hashlib.sha1(f"{self.source}\0{self.origin}".encode()).hexdigest()

    def split(self, val_per_mille: int = VAL_PER_MILLE) -> str:
        """Fixed by the hash of source and origin: a rebuild never moves a file between splits."""
        return "val" if int(self.digest[:8], 16) % 1000 < val_per_mille else "train"


def _kind(name: str) -> str | None:
    suffix = os.path.splitext(name)[1].lower()
    return "svg" if suffix in SVG_SUFFIXES else "raster" if suffix in RASTER_SUFFIXES else None


def package_items(name: str, cache: Path) -> tuple[list[Item], Counter]:
    """Every art file of a fetched package, and the counted bundles that could not be read."""
    source = SOURCES[name]
    root = unpacked_root(cache, name)
    items, broken = [], Counter()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or not source.wants(relative):
            continue
        if path.suffix == ".rcc":
            try:
                for inner, data in rcc.files(path.read_bytes()):
                    kind = _kind(inner)
                    if kind:
                        items.append(Item(name, f"{relative}:{inner}", kind, source.painted, data=data))
            except (rcc.RccError, struct.error, zlib.error, UnicodeDecodeError):
                broken["broken: unreadable .rcc bundle"] += 1
        elif _kind(relative) == "svg" and source.elements:
            try:
                elements = _elements(source, path)
            except svg.SvgError:
                broken["broken: unreadable SVG"] += 1
                continue
            items.extend(Item(name, f"{relative}#{element}", "svg", source.painted, path=str(path),
                              element=element) for element in elements)
        elif _kind(relative):
            items.append(Item(name, relative, _kind(relative), source.painted, path=str(path)))
    return items, broken


def _elements(source, path: Path) -> list[str]:
    """The ids of the pictures in a multi-picture SVG, in document order."""
    if source.elements == THEME_OBJECTS:
        return theme_objects(path.parent).get(path.name, [])
    pattern = re.compile(source.elements)
    return list(dict.fromkeys(i for i in svg.element_ids(path.read_bytes()) if pattern.fullmatch(i)))


def theme_objects(folder: Path) -> dict[str, list[str]]:
    """SVG file name -> the ids of the pieces KTuberling's ``.theme`` files in ``folder`` list for
    it. Not its scene (``background``): gradient skies whose lines could only be extracted."""
    objects: dict[str, list[str]] = {}
    for theme in sorted(Path(folder).glob("*.theme")):
        try:
            root = ElementTree.fromstring(theme.read_bytes())
        except ElementTree.ParseError:
            continue
        names = [node.get("name") for node in root.iter("object") if node.get("name")]
        if root.get("gameboard"):
            objects.setdefault(root.get("gameboard"), []).extend(names)
    return {board: list(dict.fromkeys(names)) for board, names in objects.items()}


def folder_items(folder: Path) -> list[Item]:
    folder = Path(folder).expanduser()
    return [Item("folder", path.relative_to(folder).as_posix(), _kind(path.name), path=str(path))
            for path in sorted(folder.rglob("*")) if path.is_file() and _kind(path.name)]


def limit_items(items: list[Item], limit: int | None) -> list[Item]:
    """At most ``limit`` items, spread over the whole package (hash order, not folder order)."""
    if limit is None or len(items) <= limit:
        return items
    return sorted(items, key=lambda item: item.digest)[:limit]


def _check_colour(colour: np.ndarray, painted: bool) -> None:
    if np.count_nonzero(colour[:, :, 3] > 127) < MIN_FIGURE_PIXELS:
        raise Skip("near-empty")
    if images.colourful_share(colour) < MIN_COLOURFUL:
        raise Skip("near-monochrome")
    if not painted and (images.flat_share(colour) < MIN_FLAT
                        or images.distinct_colours(colour) > MAX_COLOURS):
        raise Skip("photographic or textured")


def _check_ink(line: np.ndarray, colour: np.ndarray) -> None:
    ink = np.count_nonzero(line < 0.5)
    if ink < MIN_INK * line.size:
        raise Skip("no line art")
    figure = max(np.count_nonzero(colour[:, :, 3] > 127), 1)
    if ink > MAX_INK * max(figure, line.size // 4):
        raise Skip("mostly ink (solid dark areas)")


def _check_element(prepared: svg.Prepared) -> None:
    """Elements of a multi-picture SVG that are no picture: captions, and details drawn a speck on
    their page (enlarged to a sample, their outlines would be a dozen pixels wide)."""
    counts = prepared.counts
    if counts["shapes"] and counts["shapes"] == counts["text"]:
        raise Skip("text only")
    top, bottom, left, right = prepared.box
    if max(bottom - top, right - left) < MIN_ELEMENT_SHARE * max(prepared.page):
        raise Skip("tiny (a speck on its page)")


def make_pair(item: Item, max_side: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(line float32 1 = paper, colour RGBA uint8, how the line was made) or raises Skip."""
    data = item.read()
    if item.kind == "svg":
        try:
            prepared = svg.prepare(data, item.element)
            if item.element is not None:
                _check_element(prepared)
            if images.colourful_share(prepared.probe) < MIN_COLOURFUL / 2:
                raise Skip("near-monochrome")  # most clip art that fails does so here, before full renders
            versions = svg.render_versions(prepared, max_side)
            line = imaging.line_from_rgba(versions["line"])
            colour = versions["colour"]
            counts = prepared.counts
            if counts["ink_strokes"] + counts["ink_fills"] and (
                    images.outline_coverage(colour, line) >= MIN_OUTLINE_COVERAGE):
                _check_colour(colour, item.painted)
                _check_ink(line, colour)
                return line, colour, "svg-strokes"
            colour = svg.render_versions(prepared, max_side, ("original",))["original"]
        except svg.SvgError as error:
            raise Skip(f"broken: {str(error).split(':')[0]}") from error
    else:
        try:
            colour = images.decode(data)
        except images.ImageError as error:
            raise Skip("broken: unreadable image") from error
        box = images.content_box(colour[:, :, 3])
        if box is None:
            raise Skip("near-empty")
        colour = images.fit(colour[box[0]:box[1], box[2]:box[3]], max_side)
        if max(colour.shape[:2]) < MIN_SIDE:
            raise Skip("too small")
    _check_colour(colour, item.painted)
    line, method = lines.extract_lines(colour)
    _check_ink(line, colour)
    return line, colour, method


def task_key(item: Item, max_side: int) -> str:
    return f"{item.source}\0{item.origin}\0{max_side}"


def sample_id(item: Item, max_side: int) -> str:
    return f"{item.source}-{item.digest[:12]}-{max_side}"


def process(task: tuple[Item, int, str, str, str]) -> dict:
    """Worker: one (item, size) -> a log record with either ``sample`` or ``skip``. Never raises."""
    item, max_side, split, out, license_text = task
    key = task_key(item, max_side)
    try:
        line, colour, method = make_pair(item, max_side)
        line_u8 = imaging.to_uint8(line)
        identifier = sample_id(item, max_side)
        folder = Path(out) / split
        imageio.write_png(folder / f"{identifier}.color.png", colour)
        imageio.write_png(folder / f"{identifier}.line.png", line_u8)
        width = plan.estimate_line_width(imaging.line_from_rgba(line_u8))
        sample = {"id": identifier, "split": split, "source": item.source, "license": license_text,
                  "origin": item.origin, "lines": method, "size": list(line_u8.shape),
                  "line_width": round(float(width), 3)}
        if item.element is None:
            return {"key": key, "source": item.source, "sample": sample}
        return {"key": key, "source": item.source, "sample": sample, "geometry": _geometry(item)}
    except Skip as reason:
        return {"key": key, "source": item.source, "skip": str(reason)}
    except Exception as error:  # one bad file must never stop a build of thousands
        return {"key": key, "source": item.source, "skip": f"broken: {type(error).__name__}"}


def _read_log(log: Path, out: Path) -> dict[str, dict]:
    done = {}
    if log.exists():
        for text in log.read_text().splitlines():
            try:
                record = json.loads(text)
            except ValueError:
                continue  # a line cut short by a kill
            sample = record.get("sample")
            if sample and not all((out / sample["split"] / f"{sample['id']}.{kind}.png").is_file()
                                  for kind in ("color", "line")):
                continue
            done[record["key"]] = record
    return done


def _start_from(out: Path, partial: Path) -> None:
    """Begin a build from the finished dataset at ``out``, so adding a package renders only the
    new package: its pairs are hard-linked into ``partial`` (never rewritten: a training may be
    reading them) and its log, or for a dataset built before logs were kept its manifest's
    samples, becomes this build's log. Nothing to do when a build is under way in ``partial``."""
    if (partial / LOG_NAME).exists() or not (out / "manifest.json").is_file():
        return
    try:
        samples = json.loads((out / "manifest.json").read_text())["samples"]
    except (ValueError, KeyError):
        return
    for split in ("train", "val"):
        (partial / split).mkdir(parents=True, exist_ok=True)
    for sample in samples:
        for kind in ("color", "line"):
            name = f"{sample['split']}/{sample['id']}.{kind}.png"
            if (out / name).is_file() and not (partial / name).exists():
                try:
                    os.link(out / name, partial / name)
                except OSError:
                    shutil.copyfile(out / name, partial / name)
    if (out / LOG_NAME).is_file():
        text = (out / LOG_NAME).read_text()
    else:  # ids end in the size they were rendered at
        text = "".join(json.dumps({"key": f"{s['source']}\0{s['origin']}\0{s['id'].rsplit('-', 1)[1]}",
                                   "source": s["source"], "sample": s}) + "\n" for s in samples)
    write_text_atomic(partial / LOG_NAME, text)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one step (Linux renameat2), so a training reading the dataset never
    finds it missing; False where that is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_cwd, exchange = -100, 2  # AT_FDCWD, RENAME_EXCHANGE
    return renameat2(at_cwd, os.fsencode(first), at_cwd, os.fsencode(second), exchange) == 0


def _geometry(item: Item) -> list[str]:
    return svg.geometry(svg.isolate(svg.decompress(item.read()), item.element))


def _duplicates(done: dict[str, dict], items: dict[str, Item]) -> list[dict]:
    """Log records turning into skips the element samples that draw what an earlier element of the
    same source and size draws: shapes of the same geometry make up most of both (a card's
    drawing under each suit, a piece and its mirror image made by a transform, the same card in a
    deck and in its 4-colour or renamed copy). The first by origin stays, so one drawing is never
    in both splits, and which one that is depends only on the source's elements. Samples taken
    over from a manifest get their geometry recorded first."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for key, record in done.items():
        if "sample" in record and key in items and items[key].element is not None:
            groups.setdefault((record["source"], record["sample"]["id"].rsplit("-", 1)[1]), []).append(record)
    updates = []
    for records in groups.values():
        kept: list[Counter] = []
        for record in sorted(records, key=lambda r: r["sample"]["origin"]):
            if "geometry" not in record:
                record = dict(record, geometry=_geometry(items[record["key"]]))
                updates.append(record)
            shapes = Counter(record["geometry"])
            if any(sum((shapes & other).values()) >= DUPLICATE_SHARE * sum((shapes | other).values())
                   for other in kept):
                updates.append({"key": record["key"], "source": record["source"],
                                "skip": "duplicate drawing"})
            else:
                kept.append(shapes)
    return updates


def _describe(name: str, cache: Path | None, folder: Path | None) -> tuple[str, str]:
    """(package label, licence) recorded for a source."""
    if name == "folder":
        return f"folder {folder}", FOLDER_LICENSE
    marker = read_marker(cache, name) or {}
    return f"{name} {marker.get('version', '?')}", SOURCES[name].license


def build(out: Path, cache: Path | None = None, packages=None, folder: Path | None = None,
          limit: int | None = None, sizes=DEFAULT_SIZES, jobs: int = 2, log=print,
          val_per_mille: int = VAL_PER_MILLE) -> dict:
    """Build (or resume building) the dataset at ``out``; returns the manifest.

    ``val_per_mille`` (validation share in 1/1000) exists for tests that need a val split from a
    handful of files; the command line always uses the default.
    """
    out = Path(out).expanduser()
    items_by_source: dict[str, list[Item]] = {}
    unreadable: dict[str, Counter] = {}
    if folder is not None:
        folder = Path(folder).expanduser().resolve()
        if not folder.is_dir():
            raise SystemExit(f"--from-folder {folder}: not a folder")
        items_by_source["folder"] = limit_items(folder_items(folder), limit)
    else:
        cache = Path(cache).expanduser()
        for name in packages:
            if read_marker(cache, name) is None:
                raise SystemExit(f"{name} is not fetched into {cache}: run `python -m export.data fetch "
                                 f"--packages {name} --cache {cache}` first")
            found, unreadable[name] = package_items(name, cache)
            items_by_source[name] = limit_items(found, limit)
    described = {name: _describe(name, cache, folder) for name in items_by_source}

    partial = out.with_name(out.name + ".partial")
    progress_log = partial / LOG_NAME
    _start_from(out, partial)
    for split in ("train", "val"):
        (partial / split).mkdir(parents=True, exist_ok=True)
    tasks = []
    for name, items in items_by_source.items():
        for item in items:
            for size in (sizes if item.kind == "svg" else sizes[-1:]):
                task = (item, size, item.split(val_per_mille), str(partial), described[name][1])
                tasks.append((task_key(item, size), task))
    # only what this build asks for counts: a resumed build with other options ignores the rest
    wanted = dict(tasks)
    done = {key: record for key, record in _read_log(progress_log, partial).items() if key in wanted}
    tasks = [task for key, task in tasks if key not in done]
    total = len(tasks) + len(done)
    log(f"building {out}: {sum(map(len, items_by_source.values()))} files from "
        f"{', '.join(items_by_source)}; {len(done)} of {total} renders already done")
    started = last_report = time.monotonic()
    with open(progress_log, "a") as handle:
        def record(result: dict) -> None:
            nonlocal last_report
            done[result["key"]] = result
            handle.write(json.dumps(result) + "\n")
            handle.flush()
            now = time.monotonic()
            if now - last_report > 30 or len(done) == total:
                last_report = now
                finished = len(done) - (total - len(tasks))
                rate = finished / max(now - started, 1e-6)
                samples = sum(1 for r in done.values() if "sample" in r)
                log(f"  {len(done)}/{total} renders, {samples} samples, {rate:.2f} renders/s, "
                    f"about {(total - len(done)) / max(rate, 1e-6) / 60:.0f} min left")

        if jobs > 1 and len(tasks) > 1:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for result in pool.imap_unordered(process, tasks, chunksize=4):
                    record(result)
        else:
            for task in tasks:
                record(process(task))
        for result in _duplicates(done, {key: task[0] for key, task in wanted.items()}):
            done[result["key"]] = result
            handle.write(json.dumps(result) + "\n")

    manifest = _manifest(done, items_by_source, unreadable, described)
    kept = {f"{s['id']}.{kind}.png" for s in manifest["samples"] for kind in ("color", "line")}
    for split in ("train", "val"):
        for path in (partial / split).iterdir():
            if path.name not in kept:
                path.unlink()  # left by an earlier build with other options, or half-written
    write_text_atomic(partial / "manifest.json", json.dumps(manifest, indent=1))
    # the log stays with the dataset: the next build starts from it
    if not out.exists():
        partial.replace(out)
    elif _exchange(partial, out):
        shutil.rmtree(partial, ignore_errors=True)  # the old dataset now; its pairs live on as links
    else:
        old = out.with_name(f"{out.name}.old-{os.getpid()}")
        out.replace(old)
        partial.replace(out)
        shutil.rmtree(old, ignore_errors=True)
    _report(manifest, time.monotonic() - started, log)
    return manifest


def _manifest(done: dict[str, dict], items_by_source, unreadable, described) -> dict:
    samples = sorted((r["sample"] for r in done.values() if "sample" in r), key=lambda s: s["id"])
    sources = {}
    for name, items in items_by_source.items():
        reasons = Counter(r["skip"] for r in done.values() if r["source"] == name and "skip" in r)
        reasons.update(unreadable.get(name, Counter()))
        sources[name] = {"package": described[name][0], "license": described[name][1],
                         "files_seen": len(items), "samples": sum(1 for s in samples if s["source"] == name),
                         "skipped": sum(reasons.values()), "skip_reasons": dict(reasons.most_common()),
                         "lines": dict(Counter(s["lines"] for s in samples if s["source"] == name))}
        if any(item.element for item in items):  # files_seen counts elements
            sources[name]["element_files"] = len({item.path for item in items})
    widths = [s["line_width"] for s in samples if s["split"] == "train"] or [s["line_width"] for s in samples]
    return {"version": 1, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "sources": sources, "samples": samples,
            "stats": {"line_width_median": round(float(np.median(widths)), 3) if widths else None,
                      "train": sum(1 for s in samples if s["split"] == "train"),
                      "val": sum(1 for s in samples if s["split"] == "val")}}


def write_text_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".part")
    temporary.write_text(text)
    os.replace(temporary, path)


def _report(manifest: dict, seconds: float, log) -> None:
    for name, info in manifest["sources"].items():
        seen = (f"{info['files_seen']} elements of {info['element_files']} files" if "element_files" in info
                else f"{info['files_seen']} files")
        log(f"{name} ({info['package']}; {info['license']}): {seen}, "
            f"{info['samples']} samples {info['lines']}, {info['skipped']} skipped")
        for reason, count in info["skip_reasons"].items():
            log(f"    skipped {count:5d}: {reason}")
    stats = manifest["stats"]
    log(f"total {stats['train']} train + {stats['val']} val samples, line width median "
        f"{stats['line_width_median']} px, {seconds / 60:.1f} min")
    sys.stdout.flush()
