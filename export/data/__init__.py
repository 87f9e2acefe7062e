"""Training data: fetch openly licensed art from Debian packages, build line/colour pairs, serve them.

``python -m export.data fetch`` downloads and unpacks the packages, ``python -m export.data build``
turns them (or a folder of images) into a dataset folder, and ``dataset.PairDataset`` serves crops
with simulated hints (``hints``) to the trainer.
"""
