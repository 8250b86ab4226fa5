"""A QR code: the EPC payment code (SEPA transfer) when the bill has one, else the pay link."""

from __future__ import annotations

import io
from typing import Literal

from PIL import Image

from renderers.qr import epc_payload, epc_png, qr_png
from renderers.video.layers.base import Kind, LayerBase, LayerContext, blank


class QR(LayerBase):
    type: Literal["qr"]
    source: Literal["auto", "epc", "link"] = "auto"  # auto: EPC if possible, else the link


def payload_png(layer: QR, bill: object) -> bytes | None:
    if not isinstance(bill, dict):
        return None
    if layer.source in {"auto", "epc"}:
        payload = epc_payload(bill)
        if payload is not None:
            return epc_png(payload, scale=1)
    if layer.source in {"auto", "link"}:
        payment = bill.get("payment")
        url = payment.get("url") if isinstance(payment, dict) else None
        if url:
            return qr_png(str(url), scale=1)
    return None


def draw(layer: QR, ctx: LayerContext, size: tuple[int, int], _p: float) -> Image.Image:
    image = blank(size)
    png = payload_png(layer, ctx.bill)
    if png is None:
        return image
    with Image.open(io.BytesIO(png)) as code:
        modules = code.convert("RGBA")
    # Whole pixels per module, nearest neighbour: sharp edges a phone camera reads.
    side = min(size)
    scale = max(1, side // modules.width)
    symbol = modules.resize((modules.width * scale,) * 2, Image.Resampling.NEAREST)
    image.alpha_composite(symbol, ((size[0] - symbol.width) // 2, (size[1] - symbol.height) // 2))
    return image


KIND = Kind(QR, draw)
