"""Training data: ``fetch`` Debian packages with openly licensed art, ``build`` line/colour pairs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .fetch import FetchError, fetch, read_marker
from .sources import DEFAULT_CACHE, DEFAULT_DATASET, DEFAULT_PACKAGES, DEFAULT_STREAMLINE_DATASET, SOURCES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    known = "; ".join(f"{name}: {source.note}" for name, source in SOURCES.items())

    fetch_cmd = commands.add_parser("fetch", help="download, verify and unpack the Debian packages with art")
    fetch_cmd.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"default {DEFAULT_CACHE}")
    fetch_cmd.add_argument("--packages", nargs="+", default=list(DEFAULT_PACKAGES), metavar="NAME",
                           help=f"default: {' '.join(DEFAULT_PACKAGES)}. Known: {known}")

    build_cmd = commands.add_parser("build", help="make a dataset from fetched packages or a folder")
    build_cmd.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"default {DEFAULT_CACHE}")
    build_cmd.add_argument("--out", type=Path, default=DEFAULT_DATASET, help=f"default {DEFAULT_DATASET}")
    build_cmd.add_argument("--packages", nargs="+", metavar="NAME",
                           help="sources to use (default: every default package that is fetched)")
    build_cmd.add_argument("--from-folder", type=Path, metavar="DIR",
                           help="build from your own folder of images (SVG, PNG, JPEG, WebP) instead")
    build_cmd.add_argument("--limit", type=int, help="at most N files per source, spread over the source")
    build_cmd.add_argument("--sizes", type=int, nargs="+", default=[384, 512], metavar="PX",
                           help="longer side of the stored samples; SVGs are rendered at each size, "
                                "raster images once at the largest (default: 384 512)")
    build_cmd.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")

    streamline_cmd = commands.add_parser(
        "streamline", help="validation pairs from Streamline Emojis (npm, CC-BY-4.0): outline art like "
                           "our users', never training data")
    streamline_cmd.add_argument("--out", type=Path, default=DEFAULT_STREAMLINE_DATASET,
                                help=f"default {DEFAULT_STREAMLINE_DATASET}")
    streamline_cmd.add_argument("--limit", type=int, help="at most the first N icons (by name)")

    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            fetch(args.packages, args.cache)
            return 0
        if args.command == "streamline":
            from .streamline import build as build_streamline  # renders with OpenCV and rsvg-convert

            build_streamline(args.out, limit=args.limit)
            return 0
        if (args.limit is not None and args.limit < 1) or min(args.sizes) < 64:
            parser.error("--limit must be at least 1 and every --sizes value at least 64")
        packages = args.packages
        if args.from_folder is None and packages is None:
            packages = [name for name in DEFAULT_PACKAGES if read_marker(args.cache.expanduser(), name)]
            if not packages:
                print(f"error: nothing fetched in {args.cache}: run `python -m export.data fetch` first",
                      file=sys.stderr)
                return 2
        unknown = [name for name in packages or () if name not in SOURCES]
        if unknown:
            parser.error(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(SOURCES)}")
        from .build import build  # imports OpenCV and the engine only when building

        build(args.out, cache=args.cache, packages=packages, folder=args.from_folder, limit=args.limit,
              sizes=sorted(set(args.sizes)), jobs=max(1, args.jobs))
        return 0
    except FetchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
