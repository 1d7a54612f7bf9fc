"""Small result objects that playml's tasks return.

They print readably, allow attribute access, and turn into plain dictionaries with
``.to_dict()`` (ready for ``json.dumps``). Lists of them come sorted best-first.
:mod:`playml.results.base` holds the shared base and the general results;
:mod:`playml.results.bodies` what the body, hand and face tasks return.
"""

from playml.results.base import (
    Detection,
    Keypoint,
    Prediction,
    Predictions,
    Result,
    Text,
    Value,
    confidence_bars,
    html_table,
    png_html,
    to_builtin,
)
from playml.results.bodies import Box, Face, FacePart, Hand, Mask, Pose

__all__ = [
    "Result",
    "Prediction",
    "Predictions",
    "Text",
    "confidence_bars",
    "html_table",
    "png_html",
    "Value",
    "Keypoint",
    "Detection",
    "to_builtin",
    "Box",
    "Pose",
    "Hand",
    "Face",
    "FacePart",
    "Mask",
]
