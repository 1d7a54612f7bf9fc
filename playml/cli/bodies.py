"""``playml pose|hands|face|segment|detect``: bodies, hands, faces and objects on images and videos.

playml pose dancer.jpg --out dancer_pose.png
playml pose team.jpg --model movenet-multipose --out team_pose.png
playml detect street.jpg --out street_boxes.png
playml detect clip.mp4 --hands --out clip_hands.webm
playml hands clip.mp4 --out clip_hands.webm       # VP9 WebM plays in browsers
playml face selfie.jpg --json
playml segment me.jpg --out me_blurred.jpg --blur
"""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path
from typing import Any

from playml.cli._output import plural, print_json, print_table
from playml.core.media import load_image


def register(sub: argparse._SubParsersAction) -> None:
    specs = [
        ("pose", "find one person's 33 body keypoints (MediaPipe BlazePose)"),
        ("hands", "find hands and their 21 keypoints (MediaPipe Hands)"),
        ("face", "find faces and their 478-point mesh (MediaPipe Face Mesh)"),
        ("detect", "find objects (80 COCO labels, CenterNet) or, with --hands, hand boxes (handtrack.js)"),
    ]
    for name, help_ in specs:
        p = sub.add_parser(name, help=help_, description=help_ + ". Runs offline on bundled models.")
        p.add_argument("source", help="an image or a video file (.mp4, .avi, .mov …)")
        p.add_argument(
            "--out",
            help="save a drawn copy: an image (.png/.jpg) for an image, a video (.webm plays in browsers; .mp4, .avi) "
            "for a video",
        )
        p.add_argument("--json", action="store_true", help="print the results as JSON")
        p.add_argument("--flipped", action="store_true", help="mirror the results (selfie view)")
        if name == "pose":
            p.add_argument(
                "--model",
                default="blazepose",
                choices=["blazepose", "movenet", "movenet-lightning", "movenet-thunder", "movenet-multipose"],
                help="blazepose (33 keypoints, default), movenet / movenet-thunder (17 keypoints), "
                "movenet-multipose (several people)",
            )
            p.add_argument("--max-poses", type=int, default=6, help="most people for movenet-multipose (default 6)")
        if name == "detect":
            p.add_argument("--hands", action="store_true", help="find hand boxes instead of COCO objects")
            p.add_argument(
                "--min-confidence",
                type=float,
                default=None,
                help="drop boxes below this confidence (default 0.3 objects, 0.5 hands)",
            )
            p.add_argument("--max-detections", type=int, default=20, help="most boxes per picture (default 20)")
        if name == "hands":
            p.add_argument("--max-hands", type=int, default=2, help="most hands to find (default 2)")
            p.add_argument("--lite", action="store_true", help="use the smaller, faster hand model")
        if name == "face":
            p.add_argument("--max-faces", type=int, default=1, help="most faces to find (default 1)")
            p.add_argument("--no-irises", action="store_true", help="468 points without the irises (faster)")
            p.add_argument(
                "--mesh",
                choices=["contours", "tesselation", "points"],
                default="contours",
                help="what to draw with --out (default contours)",
            )
        p.set_defaults(func=_detect_command)

    p = sub.add_parser(
        "segment",
        help="separate people from the background (MediaPipe Selfie Segmentation)",
        description="Write a person mask (white = person), or with --blur the picture with a "
        "blurred background. Works on images and videos, offline.",
    )
    p.add_argument("source", help="an image or a video file")
    p.add_argument(
        "--out",
        required=True,
        help="where to save: mask.png, blurred.jpg or a video (.webm plays in browsers; .mp4, .avi)",
    )
    p.add_argument("--blur", action="store_true", help="save the picture with its background blurred")
    p.add_argument("--landscape", action="store_true", help="use the faster landscape model")
    p.add_argument("--flipped", action="store_true", help="mirror the output (selfie view)")
    p.set_defaults(func=_segment_command)


def _task(args: argparse.Namespace):
    import playml as ml

    if args.command == "pose":
        if args.model != "blazepose":
            return ml.body_pose(model=args.model, max_poses=args.max_poses, flipped=args.flipped)
        return ml.body_pose(flipped=args.flipped)
    if args.command == "detect":
        if args.hands:
            conf = 0.5 if args.min_confidence is None else args.min_confidence
            return ml.hand_detector(min_confidence=conf, max_hands=args.max_detections, flipped=args.flipped)
        if args.flipped:
            from playml.errors import InputError

            raise InputError("--flipped works with --hands only.")
        conf = 0.3 if args.min_confidence is None else args.min_confidence
        return ml.object_detector(min_confidence=conf, max_detections=args.max_detections)
    if args.command == "hands":
        model = "mediapipe-hands-lite" if args.lite else "mediapipe-hands-full"
        return ml.hand_pose(model, max_hands=args.max_hands, flipped=args.flipped)
    return ml.face_mesh(max_faces=args.max_faces, refine_landmarks=not args.no_irises, flipped=args.flipped)


def _save_image(picture, out: Path) -> None:
    from playml.core.media import IMAGE_SUFFIXES
    from playml.core.saving import atomic_write
    from playml.errors import InputError

    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise InputError(f"--out {str(out)!r}: for an image, save as .png or .jpg.")
    buf = io.BytesIO()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}.get(
        out.suffix.lower(), out.suffix[1:].upper()
    )
    picture.convert("RGB" if fmt == "JPEG" else picture.mode).save(buf, format=fmt)
    atomic_write(out, buf.getvalue())
    print(f"saved {out}")


def _summary(command: str, results: list) -> list[list[Any]]:
    rows = []
    for i, r in enumerate(results):
        if command == "detect":
            rows.append([r.label, f"{r.confidence:.2f}", f"{r.x:.0f},{r.y:.0f} {r.width:.0f}×{r.height:.0f}"])
            continue
        box = f"{r.box.x:.0f},{r.box.y:.0f} {r.box.width:.0f}×{r.box.height:.0f}"
        if command == "pose":
            rows.append([i, f"{r.score:.2f}", box, f"{r.nose.x:.0f},{r.nose.y:.0f}"])
        elif command == "hands":
            rows.append([i, r.handedness, f"{r.confidence:.2f}", box])
        else:
            rows.append([i, len(r.keypoints), box])
    return rows


_HEADERS = {
    "pose": ["person", "score", "box", "nose"],
    "hands": ["hand", "which", "confidence", "box"],
    "face": ["face", "points", "box"],
    "detect": ["label", "confidence", "box"],
}


def _detect_command(args: argparse.Namespace) -> int:
    import playml as ml
    from playml.core.video import is_video

    task = _task(args)
    out = Path(args.out) if args.out else None
    if is_video(args.source):
        return _video(
            args,
            task.detect_stream(args.source),
            out,
            lambda frame, res: ml.draw(frame, res, mesh=getattr(args, "mesh", "contours")),
        )
    results = task.detect(args.source)
    if args.json:
        print_json(results)
    elif results:
        print_table(_summary(args.command, results), _HEADERS[args.command])
    else:
        print(f"nothing found in {args.source}")
    if out is not None:
        picture = load_image(args.source)
        if args.flipped:  # the keypoints are mirrored: draw them on the mirrored picture
            picture = picture[:, ::-1]
        _save_image(ml.draw(picture, results, mesh=getattr(args, "mesh", "contours")), out)
    return 0


def _video(args, stream, out: Path | None, render) -> int:
    from playml.core.video import VideoWriter, is_video, video_info
    from playml.errors import InputError

    if out is not None and not is_video(out):
        raise InputError(f"--out {str(out)!r}: for a video, save as .webm (VP9: plays in browsers), .mp4 or .avi.")
    writer: Any = VideoWriter(out, fps=video_info(args.source)["fps"]) if out is not None else contextlib.nullcontext()
    per_frame: list[Any] = []
    with writer:  # the video file appears only if every frame was written
        for i, (frame, results) in enumerate(stream):
            if out is not None:
                writer.write(render(frame, results))
            if getattr(args, "json", False):
                per_frame.append({"frame": i, "results": results})
            else:
                per_frame.append(len(results) if isinstance(results, list) else results.coverage)
    if getattr(args, "json", False):
        print_json(per_frame)
    else:
        found = sum(1 for n in per_frame if n)
        print(f"{plural(len(per_frame), 'frame')}, something found in {found}")
    if out is not None:
        print(f"saved {out}")
    return 0


def _segment_command(args: argparse.Namespace) -> int:
    import numpy as np

    import playml as ml
    from playml.core.video import is_video

    model = "selfie-segmentation-landscape" if args.landscape else "selfie-segmentation"
    seg = ml.body_segmentation(model, flipped=args.flipped)
    out = Path(args.out)

    def render(frame, mask):
        if args.blur:
            return mask.blur_background(frame)
        return np.repeat(np.asarray(mask.to_image())[:, :, None], 3, axis=2)

    if is_video(args.source):
        return _video(args, seg.segment_stream(args.source), out, render)
    mask = seg.segment(args.source)
    print(f"people cover {mask.coverage:.0%} of the picture")
    _save_image(mask.blur_background() if args.blur else mask.to_image(), out)
    return 0
