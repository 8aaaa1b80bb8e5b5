"""imgpipe: fast, bounded-memory image pipelines from Python.

    import imgpipe, numpy as np

    image = imgpipe.load("photo.jpg")           # decoded by the library, upright, sRGB
    pixels = np.asarray(image)                  # (height, width, 3) uint8, no copy
    chain = imgpipe.Chain([{"resize": {"width": 800}}, {"sharpen": {}}])
    small = chain.run(image)
    imgpipe.save(small, "small.webp", quality=85)

Pixels are RGB (not OpenCV's BGR), 8- or 16-bit, alpha last; grey images are 2-D arrays.
Python's lock is released while pixels are processed. Library errors are imgpipe.Error
subclasses, one per category, with the library's message. docs/python.md says more.
"""

from __future__ import annotations

import json as _json
import os as _os

from . import _imgpipe
from ._imgpipe import Clustering, Image, __version__

__all__ = [
    "Image", "Chain", "Clustering", "load", "encode", "save", "cluster", "extract_palette", "run_batch",
    "ops", "__version__", "Error", "ConfigError", "DecodeError", "LimitError", "IoError", "UnsupportedError",
    "DeviceError", "TimeoutError", "CancelledError", "InternalError",
]


# ---- Errors: one class per imgpipe::ErrorCategory --------------------------------------------

class Error(Exception):
    """An imgpipe error; `category` is the library's category ("config", "decode", ...)."""

    def __init__(self, message: str, category: str = "internal"):
        super().__init__(message)
        self.category = category


class ConfigError(Error):
    """A chain, a parameter or a setting is wrong."""


class DecodeError(Error):
    """An input could not be decoded (corrupt, truncated, not an image)."""


class LimitError(Error):
    """A safety limit (pixels, file size, memory) refused the work."""


class IoError(Error):
    """Reading or writing a file failed."""


class UnsupportedError(Error):
    """Valid input the library cannot handle (format, depth, band count)."""


class DeviceError(Error):
    """An accelerator was asked for and is not usable."""


class TimeoutError(Error):  # noqa: A001 - mirrors the library's category name
    """The work took longer than it was allowed."""


class CancelledError(Error):
    """The work was asked to stop."""


class InternalError(Error):
    """A bug or an exhausted resource."""


# ---- Images --------------------------------------------------------------------------------

def _image_array(self, dtype=None, copy=None):
    import numpy
    array = numpy.asarray(memoryview(self))
    if dtype is not None and array.dtype != dtype:
        return array.astype(dtype)
    return array.copy() if copy else array


def _image_repr(self):
    return (f"<imgpipe.Image {self.width}x{self.height}, {self.channels} channel(s), "
            f"{self.bit_depth}-bit, from {self.source or '<memory>'}>")


Image.__array__ = _image_array
Image.__repr__ = _image_repr
Image.shape = property(lambda self: (self.height, self.width) if self.channels == 1
                       else (self.height, self.width, self.channels))


def load(source, *, auto_orient: bool = True, name: str = "<bytes>", formats=None) -> Image:
    """Decodes a file (str or os.PathLike) or encoded bytes (bytes, bytearray, memoryview).

    formats: the input formats read (default JPEG, PNG, WebP, TIFF and GIF, by content), e.g.
    ["jpeg", "ppm"] or "all" (docs/security.md)."""
    if formats is not None and not isinstance(formats, str):
        formats = ",".join(formats)
    if isinstance(source, (str, _os.PathLike)):
        return _imgpipe._load_path(_os.fspath(source), auto_orient, formats)
    return _imgpipe._load_bytes(source, name, auto_orient, formats)


def _as_image(image) -> Image:
    return image if isinstance(image, Image) else Image.from_array(image)


def encode(image, format: str = "png", *, quality: int = 0, lossless: bool = False, compression: int = 6,
           progressive: bool = False, keep_metadata: bool = False, effort: int = -1) -> bytes:
    """Encodes an Image (or a uint8/uint16 array) as png, jpeg, webp, tiff or gif bytes.

    quality: JPEG/WebP 1..100, 0 = the format's default; effort: WebP 0..6, -1 = default."""
    return _imgpipe._encode(_as_image(image), format, quality, lossless, compression, progressive,
                            keep_metadata, effort)


def save(image, path, *, format: str | None = None, quality: int = 0, lossless: bool = False,
         compression: int = 6, progressive: bool = False, keep_metadata: bool = False,
         effort: int = -1) -> None:
    """Encodes and writes atomically; the format comes from the extension unless given."""
    _imgpipe._save(_as_image(image), _os.fspath(path), format, quality, lossless, compression, progressive,
                   keep_metadata, effort)


# ---- Chains --------------------------------------------------------------------------------

Chain = _imgpipe.Chain
Chain.__doc__ = """Operations run in order, checked when the chain is made.

    Chain([{"resize": {"width": 800}}, ("sharpen", {"amount": 0.5}), "grayscale"])
    Chain.from_yaml("chain.yaml") or Chain.from_yaml("chain:\\n  - grayscale: {}\\n")
    """


def _from_yaml(source, *, untrusted: bool = False, allow_paths=()) -> Chain:
    """A chain file: an os.PathLike or a one-line str ending in .yaml/.yml is read as a file;
    any other str is YAML text. Its settings and output settings come with it.

    untrusted=True (implied by allow_paths) is for chains that come from others: the files its
    steps name (palettes, watermark image, mask, model) must lie under one of the allow_paths
    folders (docs/security.md)."""
    return Chain._from_yaml(source, untrusted, tuple(allow_paths))


def _chain_repr(self):
    return f"<imgpipe.Chain {' -> '.join(name for name, _ in self.steps) or '(empty)'}>"


def _settings(device, threads, quality, timeout):
    return {"device": device, "threads": threads, "quality": quality, "timeout": timeout}


def _run(self, image, *, device: str | None = None, threads: int | None = None, quality: str | None = None,
         timeout: float | None = None) -> Image:
    """Runs the chain on an Image or array; a chain with variants (palette) needs run_variants."""
    variants = self.run_variants(image, device=device, threads=threads, quality=quality, timeout=timeout)
    if len(variants) != 1:
        raise ConfigError(f"the chain makes {len(variants)} variants ({', '.join(variants)}); "
                          "use run_variants()", "config")
    return next(iter(variants.values()))


def _run_variants(self, image, *, device: str | None = None, threads: int | None = None,
                  quality: str | None = None, timeout: float | None = None) -> dict[str, Image]:
    """Runs the chain; one image per variant name ("" for a chain without variants)."""
    return self._run_variants(_as_image(image), _settings(device, threads, quality, timeout))


def _run_file(self, input, output, *, stream: bool = False, device: str | None = None,
              threads: int | None = None, quality: str | None = None,
              timeout: float | None = None) -> dict[str, str]:
    """Runs the chain from a file to a file through the job runner, as `imgpipe run` does
    (streamed when asked or when over the memory budget). Returns {variant: path}."""
    written = self._run_file(_os.fspath(input), _os.fspath(output), stream,
                             _settings(device, threads, quality, timeout))
    return {variant: _os.fspath(path) for variant, path in written.items()}


def _encode_variants(self, source, *, format: str | None = None, quality: int = 0, name: str = "<bytes>",
                     device: str | None = None, threads: int | None = None, preset: str | None = None,
                     timeout: float | None = None) -> dict[str, bytes]:
    """Runs the chain and encodes every variant: {variant: bytes}. source: encoded bytes
    (bytes, bytearray, memoryview; decoded by the library) or an Image/array. format and
    quality default to the chain file's output settings. Palette PNGs are written straight
    from the cluster indices, as the CLI writes them."""
    if not isinstance(source, (bytes, bytearray, memoryview)):
        source = _as_image(source)
    return self._encode(source, name, format, quality, _settings(device, threads, preset, timeout))


Chain.from_yaml = staticmethod(_from_yaml)
Chain.__repr__ = _chain_repr
Chain.run = _run
Chain.run_variants = _run_variants
Chain.run_file = _run_file
Chain.encode = _encode_variants


# ---- Palettes ------------------------------------------------------------------------------

def cluster(image, k: int = 10, mask=None, *, seed: int = 12345, quality: str | None = None,
            threads: int = 0) -> Clustering:
    """Clusters the image's colours in Lab (k = 0 picks k). mask: uint8 (height, width), 0 = leave out."""
    mask_image = None if mask is None else _as_image(mask)
    return _imgpipe._cluster(_as_image(image), k, mask_image, seed, quality, threads)


def _apply(self, palette, *, mapping: str = "lightness", preserve_shading: bool = False, masked: str = "keep",
           fill=None) -> Image:
    """Recolours every pixel from `palette`: a list of "#rrggbb" strings or (r, g, b) tuples."""
    return self._apply(palette, mapping, preserve_shading, masked, fill)


Clustering.apply = _apply


def extract_palette(image, k: int = 5, *, quality: str | None = None) -> list[dict]:
    """The k dominant colours, most frequent first: [{hex, rgb, lab, fraction}]."""
    return _imgpipe._extract_palette(_as_image(image), k, quality)


# ---- Batches and the catalogue --------------------------------------------------------------

def run_batch(chain, inputs, output_dir, *, include: list[str] | None = None, output_template: str | None = None,
              jobs: int = 0, threads: int = 0, resume: bool = False, cache_dir=None) -> list[dict]:
    """Runs a chain (a Chain, a chain file path or YAML text) over files and folders, as
    `imgpipe batch` does; returns the report's records, one per input, in input order."""
    if not isinstance(chain, Chain):
        chain = Chain.from_yaml(chain)
    roots = [inputs] if isinstance(inputs, (str, _os.PathLike)) else list(inputs)
    lines = _imgpipe._run_batch(chain, [_os.fspath(r) for r in roots], _os.fspath(output_dir), include or [],
                                output_template, jobs, threads, resume,
                                None if cache_dir is None else _os.fspath(cache_dir))
    return [_json.loads(line) for line in lines]


def ops() -> list[dict]:
    """Every operation with its parameters, as `imgpipe ops --json` prints them."""
    return _json.loads(_imgpipe._ops_json())
