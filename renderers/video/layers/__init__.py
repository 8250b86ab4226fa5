"""Layers: a union keyed on `type`, one module each, dispatched through `REGISTRY`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from renderers.video.layers import background, breakdown, chart, counter, image, progress, qr, text
from renderers.video.layers.base import Kind, LayerBase, LayerContext

Layer = Annotated[
    background.Background
    | text.Text
    | counter.Counter
    | chart.Chart
    | breakdown.Breakdown
    | qr.QR
    | image.Picture
    | progress.Progress,
    Field(discriminator="type"),
]

REGISTRY: Mapping[str, Kind[Any]] = {
    "background": background.KIND,
    "text": text.KIND,
    "counter": counter.KIND,
    "chart": chart.KIND,
    "breakdown": breakdown.KIND,
    "qr": qr.KIND,
    "image": image.KIND,
    "progress": progress.KIND,
}
LAYER_TYPES = tuple(REGISTRY)

__all__ = ["LAYER_TYPES", "REGISTRY", "Kind", "Layer", "LayerBase", "LayerContext"]


def kind_of(layer: LayerBase) -> Kind[Any]:
    return REGISTRY[layer.type]  # type: ignore[attr-defined]
