"""Model cards for the MediaPipe models behind pose, hands, face mesh and segmentation.

Each card says where the model comes from, what it was trained on (as Google published it),
its license and what it is known to get wrong. The files are the ``.tflite`` models bundled
in the ``mediapipe`` wheel, so nothing is downloaded.

>>> from playml.mediapipe_cards import CARDS
>>> CARDS["blazepose-full"].license
'Apache-2.0'
"""
from __future__ import annotations

import dataclasses

from .results import Result

__all__ = ["MediaPipeCard", "CARDS", "card"]

_SOURCE = "Google MediaPipe legacy solutions, bundled in the mediapipe 0.10.21 wheel (mediapipe/modules/…)"


@dataclasses.dataclass(repr=False)
class MediaPipeCard(Result):
    """Where a MediaPipe model comes from and what it is known to get wrong."""

    name: str
    task: str
    source: str
    files: list[str]
    license: str
    training_data: str
    input_size: str
    outputs: str
    weaknesses: list[str]
    published_card: str

    def __repr__(self) -> str:
        return f"MediaPipeCard(name={self.name!r}, task={self.task!r}, license={self.license!r})"

    def __str__(self) -> str:
        lines = [f"{self.name} — {self.task}", f"  source: {self.source}", f"  files: {', '.join(self.files)}",
                 f"  license: {self.license}", f"  input: {self.input_size}", f"  outputs: {self.outputs}",
                 f"  training data: {self.training_data}", "  known weaknesses:"]
        lines += [f"    - {w}" for w in self.weaknesses]
        lines.append(f"  published card: {self.published_card}")
        return "\n".join(lines)


_FAIRNESS = ("Google's published model card reports accuracy across geographic regions, skin tones and "
             "genders; read it before using results about people from groups it did not evaluate.")

CARDS: dict[str, MediaPipeCard] = {c.name: c for c in [
    MediaPipeCard(
        name="blazepose-full",
        task="body pose (33 landmarks, one person)",
        source=_SOURCE,
        files=["pose_detection/pose_detection.tflite", "pose_landmark/pose_landmark_full.tflite"],
        license="Apache-2.0",
        training_data=("BlazePose (Bazarevsky et al., 2020): about 60K images of one or a few people in "
                       "everyday poses plus 25K images of one person doing fitness exercises, annotated by "
                       "hand; the GHUM 3D version adds 3D fits of the GHUM body model."),
        input_size="256×256 crop around the person (found by a 224×224 detector)",
        outputs="33 keypoints (x, y in pixels, relative depth z, visibility 0–1), 33 world points in metres",
        weaknesses=[
            "Finds ONE person per image: with several people it follows one of them (usually the largest).",
            "Only the 'full' landmark model (model_complexity=1) ships in the wheel; 'lite' and 'heavy' "
            "would be downloaded, so playml refuses them.",
            "Keypoints outside the picture are still guessed; check their confidence (visibility).",
            "Trained for people 2–4 m from the camera; very small or very close people are missed.",
            "Unusual poses (upside down, lying down, heavy occlusion) are less accurate.",
            _FAIRNESS,
        ],
        published_card="'BlazePose GHUM 3D' model card, linked from MediaPipe's legacy Pose documentation",
    ),
    MediaPipeCard(
        name="mediapipe-hands-full",
        task="hand landmarks (21 per hand) and handedness",
        source=_SOURCE,
        files=["palm_detection/palm_detection_full.tflite", "hand_landmark/hand_landmark_full.tflite"],
        license="Apache-2.0",
        training_data=("MediaPipe Hands (Zhang et al., 2020): about 6K in-the-wild photos, 10K photos of "
                       "gestures collected in-house and about 100K renders of a synthetic hand model, "
                       "with 21 3D keypoints per hand."),
        input_size="192×192 palm detector, 224×224 hand crop",
        outputs="21 keypoints per hand (pixels, relative depth), handedness Left/Right with a score",
        weaknesses=[
            "The palm detector misses hands that are small in the picture (far from the camera) "
            "or seen edge-on.",
            "Gloves, hands holding objects and hands touching each other or the face are harder.",
            "MediaPipe labels handedness as if the picture were mirrored; playml swaps it so the label "
            "names the person's real hand in an ordinary photo.",
            _FAIRNESS,
        ],
        published_card="'MediaPipe Hands' model card, linked from MediaPipe's legacy Hands documentation",
    ),
    MediaPipeCard(
        name="mediapipe-hands-lite",
        task="hand landmarks (21 per hand), smaller and faster",
        source=_SOURCE,
        files=["palm_detection/palm_detection_lite.tflite", "hand_landmark/hand_landmark_lite.tflite"],
        license="Apache-2.0",
        training_data="Same data as mediapipe-hands-full.",
        input_size="192×192 palm detector, 224×224 hand crop",
        outputs="21 keypoints per hand, handedness",
        weaknesses=["Less accurate than the full model, especially for fingertips.", _FAIRNESS],
        published_card="'MediaPipe Hands (Lite)' model card, linked from MediaPipe's legacy Hands documentation",
    ),
    MediaPipeCard(
        name="face-mesh",
        task="face mesh: 468 3D face landmarks (478 with the irises)",
        source=_SOURCE,
        files=["face_detection/face_detection_short_range.tflite", "face_landmark/face_landmark.tflite",
               "face_landmark/face_landmark_with_attention.tflite (refine_landmarks=True: lips, eyes, irises)"],
        license="Apache-2.0",
        training_data=("Face Mesh (Kartynnik et al., 2019): about 30K in-the-wild phone-camera photos in "
                       "varied lighting, annotated with a 468-point mesh; the attention model adds iris "
                       "annotations."),
        input_size="128×128 face detector, 192×192 face crop",
        outputs="468 or 478 keypoints (pixels, relative depth), face box, named parts (lips, eyes, …)",
        weaknesses=[
            "Uses the short-range face detector: faces farther than about 2 m from the camera, or small "
            "in the picture, are often missed.",
            "Strong head turns (profile views), masks, hands over the face and heavy make-up lower accuracy.",
            "It locates points; it does not recognise who the person is and must not be used to.",
            _FAIRNESS,
        ],
        published_card="'MediaPipe Face Mesh' and 'Face Mesh with attention' model cards, linked from "
                       "MediaPipe's legacy Face Mesh documentation",
    ),
    MediaPipeCard(
        name="selfie-segmentation",
        task="person segmentation (selfie / video-call scenes)",
        source=_SOURCE,
        files=["selfie_segmentation/selfie_segmentation.tflite"],
        license="Apache-2.0",
        training_data=("Google's selfie segmentation data: people close to the camera in selfie and "
                       "video-conference scenes, as described in the published model card."),
        input_size="256×256",
        outputs="H×W person mask, 0–1, at the input image size",
        weaknesses=[
            "Made for one or two people within about 2 m of the camera; full bodies far away and "
            "crowds are segmented poorly.",
            "Hair, hands and held objects at the edge of the person are often cut off or blurred.",
            _FAIRNESS,
        ],
        published_card="'MediaPipe Selfie Segmentation' model card, linked from MediaPipe's legacy "
                       "Selfie Segmentation documentation",
    ),
    MediaPipeCard(
        name="selfie-segmentation-landscape",
        task="person segmentation, faster landscape variant",
        source=_SOURCE,
        files=["selfie_segmentation/selfie_segmentation_landscape.tflite"],
        license="Apache-2.0",
        training_data="Same data as selfie-segmentation.",
        input_size="144×256 (landscape)",
        outputs="H×W person mask, 0–1, at the input image size",
        weaknesses=["Coarser edges than the general model.", _FAIRNESS],
        published_card="'MediaPipe Selfie Segmentation' model card (landscape model)",
    ),
]}


def card(name: str) -> MediaPipeCard:
    """The card of one MediaPipe model by name."""
    from .errors import unknown_name

    if name not in CARDS:
        raise unknown_name("MediaPipe model", name, CARDS)
    return CARDS[name]
