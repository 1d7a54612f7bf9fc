"""Turn anything image-like into pixels.

Every playml task accepts the same kinds of image: a path (``str`` or ``pathlib.Path``),
a PIL image, a NumPy array (H×W×3 or H×W×4 ``uint8``, H×W grayscale, or floats in 0–1)
or the raw bytes of an image file. :func:`load_image` turns any of them into an
H×W×3 ``uint8`` RGB array, honouring EXIF orientation. URLs are refused: playml works
offline.

>>> from playml.core.media import load_image
>>> load_image(np.zeros((4, 6), dtype=np.uint8)).shape
(4, 6, 3)
"""

from __future__ import annotations

import io
import os
import stat
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Union

import numpy as np

from playml.errors import ImageError, InputError, MissingFileError, OfflineError, ShapeError

__all__ = [
    "ImageLike",
    "IMAGE_SUFFIXES",
    "MAX_PIXELS",
    "load_image",
    "load_pil",
    "is_image_like",
    "is_many",
    "list_images",
    "list_files",
    "check_not_url",
    "open_source",
]

ImageLike = Union[str, os.PathLike, bytes, "np.ndarray", Any]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"})

#: Images with more pixels than this are refused (decompression-bomb guard): 16,000 × 16,000.
MAX_PIXELS = 256_000_000

#: Image and sound files larger than this are refused before reading (bytes).
MAX_FILE_BYTES = 2 << 30


def check_not_url(value: Any) -> None:
    """Refuse ``http://`` and friends with a message that explains playml is offline."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://", "ftp://", "data:")):
        raise OfflineError(
            f"playml works offline and never downloads, so it cannot open {value[:60]!r}. "
            "Download the file yourself, then pass its local path (e.g. 'photo.jpg')."
        )


def open_source(
    source: Any, *, error: type[InputError], kind: str, file_kind: str, folder_hint: str
) -> tuple[str, Any]:
    """``(name, file)`` for the bytes of a file or a path: a ``BytesIO`` or an existing file's ``Path``.

    Refuses URLs, empty bytes, missing files and folders with messages about ``kind``
    ("image") and ``file_kind`` ("an image file"); ``error`` is the class raised.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise error(f"The {kind} bytes are empty. Pass the contents of {file_kind}.")
        return f"the {kind}", io.BytesIO(bytes(source))
    check_not_url(source)
    path = Path(source)
    name = str(path)
    if not path.exists():
        raise MissingFileError(
            f"There is no file {name!r}. Check the spelling and the folder you are in ({os.getcwd()})."
        )
    if path.is_dir():
        raise error(f"{name!r} is a folder, not {file_kind}. {folder_hint}")
    try:
        st = path.stat()
    except OSError as e:
        from playml.core.saving import os_error

        raise os_error(e, name) from None
    if not stat.S_ISREG(st.st_mode):  # a pipe or device would block or never end
        raise error(f"{name!r} is not a plain file (it is a pipe, device or socket); pass {file_kind}.")
    if st.st_size > MAX_FILE_BYTES:
        raise error(f"{name!r} is larger than playml reads ({MAX_FILE_BYTES >> 20:,} MB); pass a smaller {kind} file.")
    return name, path


def _open_pil(source: Any, *, draft_size: tuple[int, int] | None = None):
    from PIL import Image, ImageOps

    name, fp = open_source(
        source,
        error=ImageError,
        kind="image",
        file_kind="an image file",
        folder_hint="Pass one image file, or a list of files.",
    )
    previous = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(fp)
            if draft_size is not None and img.format == "JPEG":
                # JPEG can decode at 1/2, 1/4 or 1/8 size directly: much faster for big photos.
                img.draft("RGB", draft_size)
            img.load()
            img = ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name} is too large to open safely (over {MAX_PIXELS:,} pixels). Resize it first.") from None
    except PermissionError as e:
        from playml.core.saving import os_error

        raise os_error(e, name) from None
    except Image.UnidentifiedImageError:
        raise ImageError(
            f"{name} is not an image playml can read. Use a JPEG, PNG, GIF, BMP, WebP or TIFF file."
        ) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{name} could not be read: it looks truncated or corrupt ({e}).") from None
    finally:
        Image.MAX_IMAGE_PIXELS = previous
    return img


def _array_to_rgb(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == object or arr.size == 0:
        raise ShapeError("An image array must be a non-empty array of numbers.")
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[2] not in (1, 3, 4):
        raise ShapeError(
            f"This image array has shape {arr.shape}, which looks channels-first. "
            "playml expects height × width × channels; use arr.transpose(1, 2, 0)."
        )
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ShapeError(f"An image array must be H×W (gray), H×W×3 (RGB) or H×W×4 (RGBA); got shape {arr.shape}.")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ShapeError("The image array contains NaN or infinity.")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise ShapeError(
                f"A float image must hold values from 0 to 1 (this one goes from {lo:.3g} to {hi:.3g}). "
                "Divide by 255, or pass a uint8 array."
            )
        arr = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.integer) and arr.min() >= 0 and arr.max() <= 255:
            arr = arr.astype(np.uint8)
        else:
            raise ShapeError(
                f"An integer image must hold values 0–255 (dtype {arr.dtype}, range {arr.min()}–{arr.max()})."
            )
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif arr.shape[2] == 4:
        rgb = arr[:, :, :3].astype(np.float32)
        alpha = arr[:, :, 3:].astype(np.float32) / 255.0
        arr = np.rint(rgb * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)  # composite on white
    return np.ascontiguousarray(arr)


def _high_depth_to_8bit(img):
    """16-bit, 32-bit integer and float images scaled to 8 bits (PIL's convert would clip them:
    a 16-bit grey PNG came out almost white, a 0–1 float TIFF black)."""
    from PIL import Image

    arr = np.asarray(img)
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise ImageError("The image holds NaN or infinite pixel values.")
        hi = float(arr.max()) if arr.size else 0.0
        scale = 255.0 if hi <= 1.0 + 1e-6 else (1.0 if hi <= 255.0 else 255.0 / hi)
        out = np.clip(np.rint(arr.astype(np.float64) * scale), 0, 255)
    else:
        hi = int(arr.max()) if arr.size else 0
        out = arr.astype(np.float64) / 257.0 if hi > 255 or img.mode.startswith("I;16") else arr
        out = np.clip(np.rint(out), 0, 255)
    return Image.fromarray(out.astype(np.uint8), "L")


def _pil_rgb_image(img):
    """An RGB PIL image (transparent parts composited on white)."""
    if img.mode in ("I", "F") or img.mode.startswith("I;"):
        img = _high_depth_to_8bit(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        from PIL import Image

        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def _pil_to_rgb(img) -> np.ndarray:
    return np.asarray(_pil_rgb_image(img))


def load_image(image: ImageLike, *, draft_size: tuple[int, int] | None = None) -> np.ndarray:
    """Return ``image`` as an H×W×3 ``uint8`` RGB array.

    ``draft_size`` lets large JPEG files decode at a reduced size that is still at least
    that big (a speed-up for models that resize anyway).
    """
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image)
    if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):
        return _pil_to_rgb(_open_pil(image, draft_size=draft_size))
    try:
        from PIL.Image import Image as PILImage
    except ImportError:  # pragma: no cover
        PILImage = None  # type: ignore[assignment,misc]
    if PILImage is not None and isinstance(image, PILImage):
        return _pil_to_rgb(image)
    if hasattr(image, "__array__"):  # torch tensors, other array-likes
        return _array_to_rgb(np.asarray(image))
    raise InputError(
        f"playml cannot use a {type(image).__name__} as an image. Pass a file path, a PIL image, "
        "a NumPy array (H×W×3) or the bytes of an image file."
    )


def load_pil(image: ImageLike, *, draft_size: tuple[int, int] | None = None):
    """Like :func:`load_image` but returns an RGB PIL image."""
    from PIL import Image

    if isinstance(image, Image.Image):
        return _pil_rgb_image(image)
    if isinstance(image, (str, os.PathLike, bytes, bytearray, memoryview)):  # no NumPy round trip
        return _pil_rgb_image(_open_pil(image, draft_size=draft_size))
    return Image.fromarray(load_image(image, draft_size=draft_size))


def is_image_like(value: Any) -> bool:
    """True for one image (as opposed to a list or folder of them)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return True
    if isinstance(value, (str, os.PathLike)):
        return not Path(value).is_dir()
    if isinstance(value, np.ndarray):
        return value.ndim in (2, 3)
    if hasattr(value, "__array__") and hasattr(value, "shape"):  # torch tensors: (3, H, W) is one image
        return len(value.shape) in (2, 3)
    return type(value).__module__.startswith("PIL")


def is_many(images: Any) -> bool:
    """True when ``images`` means several images: a list/tuple, a folder, or a 4-D array."""
    if isinstance(images, (list, tuple)):
        return True
    if isinstance(images, np.ndarray):
        return images.ndim == 4
    if hasattr(images, "__array__") and hasattr(images, "shape"):
        return len(images.shape) == 4
    if isinstance(images, (str, os.PathLike)) and not (isinstance(images, str) and "://" in images):
        return Path(images).is_dir()
    return not is_image_like(images) and isinstance(images, Iterable)


def list_images(folder: str | os.PathLike, *, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` (by suffix), sorted, hidden files skipped."""
    return list_files(folder, IMAGE_SUFFIXES, recursive=recursive)


def list_files(folder: str | os.PathLike, suffixes: Iterable[str], *, recursive: bool = True) -> list[Path]:
    """Files under ``folder`` whose suffix (lower-cased) is in ``suffixes``, sorted, hidden files skipped."""
    suffixes = frozenset(suffixes)
    folder = Path(folder)
    check_not_url(str(folder))
    if not folder.exists():
        raise MissingFileError(f"There is no folder {str(folder)!r}.")
    if not folder.is_dir():
        raise InputError(f"{str(folder)!r} is a file, not a folder.")
    pattern = folder.rglob("*") if recursive else folder.glob("*")
    return sorted(
        p
        for p in pattern
        if p.is_file()
        and p.suffix.lower() in suffixes
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def iter_many(images: Any) -> Iterator[Any]:
    """Expand a folder, a list or a 4-D array into single images (in order)."""
    if isinstance(images, np.ndarray) and images.ndim == 4:
        yield from images
    elif hasattr(images, "__array__") and hasattr(images, "shape") and len(images.shape) == 4:
        yield from np.asarray(images)
    elif isinstance(images, (str, os.PathLike)) and Path(images).is_dir():
        yield from list_images(images)
    else:
        yield from images
