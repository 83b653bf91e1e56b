"""Screenshot checks that can fail: a region compared with a committed reference, and colours."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

REFERENCES = Path(__file__).resolve().parent / "references"
# A pixel differs when one of its channels is off by more than this (0-255): text antialiasing
# between runs stays far below; a decoration's tinted background (red or green at 20 % over the
# editor's grey) is 45-50 away from the plain background.
CHANNEL_THRESHOLD = 32
# At most this share of a region's pixels may differ (the cursor, a caret of a few pixels).
TOLERANCE = 0.01
UPDATE_ENV = "KIMI_LSP_UPDATE_REFERENCES"

Box = tuple[int, int, int, int]  # left, top, right, bottom


def box_of(rect: dict[str, Any]) -> Box:
    """A driver/DOM box {x, y, width, height} as a PIL box."""
    x, y = round(rect["x"]), round(rect["y"])
    return x, y, x + round(rect["width"]), y + round(rect["height"])


@dataclass
class Comparison:
    differing: float  # share of the region's pixels that differ
    size: tuple[int, int]
    reference_size: tuple[int, int]
    diff_image: Path | None

    @property
    def matches(self) -> bool:
        return self.size == self.reference_size and self.differing <= TOLERANCE


def compare_with_reference(
    screenshot: Path, name: str, region: Box, masks: tuple[Box, ...] = (), out: Path | None = None
) -> Comparison:
    """Crops `region` out of `screenshot`, blanks `masks` (page boxes) in it and compares it with
    references/<name>.png. With KIMI_LSP_UPDATE_REFERENCES=1 the crop becomes the reference."""
    crop = _masked(Image.open(screenshot).convert("RGB").crop(region), region, masks)
    reference = REFERENCES / f"{name}.png"
    if os.environ.get(UPDATE_ENV) == "1":
        crop.save(reference)
    if out is not None:
        crop.save(out / f"{name}.crop.png")
    expected = Image.open(reference).convert("RGB")
    if expected.size != crop.size:
        return Comparison(1.0, crop.size, expected.size, None)
    diff = ImageChops.difference(crop, expected)
    channels = diff.split()
    worst = ImageChops.lighter(ImageChops.lighter(channels[0], channels[1]), channels[2])
    over = worst.point(lambda v: 255 if v > CHANNEL_THRESHOLD else 0)
    count = over.histogram()[255]
    diff_image = None
    if out is not None:
        diff_image = out / f"{name}.diff.png"
        over.save(diff_image)
    return Comparison(count / (crop.width * crop.height), crop.size, expected.size, diff_image)


def _masked(image: Image.Image, region: Box, masks: tuple[Box, ...]) -> Image.Image:
    for left, top, right, bottom in masks:
        local = (left - region[0], top - region[1], right - region[0], bottom - region[1])
        image.paste((255, 0, 255), local)
    return image


def commonest_colour(screenshot: Path, region: Box) -> tuple[int, int, int]:
    """The colour most pixels of `region` have: a background, whatever text is drawn on it."""
    crop = Image.open(screenshot).convert("RGB").crop(region)
    colours: list[tuple[int, Any]] = list(crop.getcolors(crop.width * crop.height) or [])
    _, colour = max(colours, key=lambda c: c[0])
    return int(colour[0]), int(colour[1]), int(colour[2])
