"""The bundled example's drawing (a cat holding a flower, and its colour hints) at any size: the
canvases the benchmarks colour, and what ``examples/make_example.py`` writes as the example.

The line art and hints are this project's own work, released with the repository (GPL-3.0-or-later).
"""

import cv2
import numpy as np

SIZE = 768
INK = (0, 0, 0, 255)


def draw_line_art(size: int = SIZE, thickness: int = 5) -> np.ndarray:
    """The cat at ``size`` px (drawn at that size, not resampled) with lines ``thickness`` px wide."""
    shift = 4  # OpenCV draws with fixed-point coordinates: 4 fractional bits
    scale = size / SIZE
    layer = np.zeros((size, size, 4), np.uint8)  # transparent, like a line layer in Krita

    def fixed(value):
        if isinstance(value, tuple):
            return tuple(int(round(v * scale * (1 << shift))) for v in value)
        return int(round(value * scale * (1 << shift)))

    def stroke(draw, *args, **kwargs):
        if draw is cv2.ellipse:
            centre, axes, *angles = args
            cv2.ellipse(layer, fixed(centre), fixed(axes), *angles, INK, thickness, cv2.LINE_AA, shift)
        elif draw is cv2.circle:
            centre, radius = args
            cv2.circle(layer, fixed(centre), fixed(radius), INK, thickness, cv2.LINE_AA, shift)
        else:
            start, end = args
            cv2.line(layer, fixed(start), fixed(end), INK, thickness, cv2.LINE_AA, shift)

    def clear_ellipse(centre, axes):  # whatever is drawn later in front hides what is behind
        cv2.ellipse(layer, fixed(centre), fixed(axes), 0, 0, 360, (0, 0, 0, 0), -1, cv2.LINE_AA, shift)

    stroke(cv2.ellipse, (384, 520), (170, 190), 0, 0, 360)                         # body
    ears = [np.array([[262, 200], [250, 90], [340, 160]]), np.array([[506, 200], [518, 90], [428, 160]])]
    for ear in ears:
        cv2.polylines(layer, [np.round(ear * scale * (1 << shift)).astype(np.int32)], True, INK, thickness,
                      cv2.LINE_AA, shift)
    clear_ellipse((384, 270), (150, 130))
    stroke(cv2.ellipse, (384, 270), (150, 130), 0, 0, 360)                         # head
    for ex in (330, 438):                                                          # eyes
        stroke(cv2.ellipse, (ex, 260), (26, 32), 0, 0, 360)
        cv2.circle(layer, fixed((ex + 6, 266)), fixed(10), INK, -1, cv2.LINE_AA, shift)
    nose = np.array([[372, 305], [396, 305], [384, 320]])
    cv2.fillPoly(layer, [np.round(nose * scale * (1 << shift)).astype(np.int32)], INK, cv2.LINE_AA, shift)
    stroke(cv2.ellipse, (370, 330), (14, 10), 0, 0, 180)                           # mouth
    stroke(cv2.ellipse, (398, 330), (14, 10), 0, 0, 180)
    stroke(cv2.ellipse, (384, 560), (95, 110), 0, 0, 360)                          # belly
    for px in (300, 468):                                                          # paws
        stroke(cv2.ellipse, (px, 690), (55, 35), 0, 0, 360)
    stroke(cv2.line, (560, 640), (640, 330))                                       # flower stem
    stroke(cv2.ellipse, (610, 480), (38, 16), -40, 0, 360)                         # leaf
    for angle in range(0, 360, 60):                                                # petals
        rad = np.deg2rad(angle)
        centre = (int(640 + 42 * np.cos(rad)), int(300 + 42 * np.sin(rad)))
        stroke(cv2.ellipse, centre, (30, 20), angle, 0, 360)
    clear_ellipse((640, 300), (26, 26))                                            # flower heart
    stroke(cv2.circle, (640, 300), 26)
    return layer


def draw_hints() -> np.ndarray:
    """Quick scribbles, one per region, the way a user paints hints."""
    hints = np.zeros((SIZE, SIZE, 4), np.uint8)
    scribbles = [
        ((250, 240, 330, 210), (240, 150, 60)),    # head: orange
        ((250, 480, 300, 430), (240, 150, 60)),    # body
        ((360, 530, 410, 600), (250, 235, 210)),   # belly: cream
        ((280, 690, 320, 690), (250, 235, 210)),   # paws
        ((450, 690, 490, 690), (250, 235, 210)),
        ((280, 170, 270, 130), (245, 170, 170)),   # ears: pink
        ((490, 170, 500, 130), (245, 170, 170)),
        ((600, 470, 620, 490), (70, 160, 70)),     # leaf: green
        ((650, 250, 660, 240), (220, 60, 90)),     # petals: red
        ((690, 300, 700, 310), (220, 60, 90)),
        ((632, 296, 648, 304), (250, 210, 40)),    # flower heart: yellow
    ]
    for (x0, y0, x1, y1), rgb in scribbles:
        coverage = np.zeros((SIZE, SIZE), np.uint8)
        cv2.line(coverage, (x0, y0), (x1, y1), 255, 12, cv2.LINE_AA)
        stroke = coverage > 0  # straight alpha: full colour, anti-aliased coverage in alpha
        hints[stroke, :3] = rgb
        hints[stroke, 3] = np.maximum(hints[stroke, 3], coverage[stroke])
    return hints
