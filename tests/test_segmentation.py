"""Body segmentation on real photos (MediaPipe Selfie Segmentation, bundled)."""
import numpy as np
import pytest

import playml as ml


@pytest.fixture(scope="module")
def seg():
    return ml.body_segmentation()


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_mask_covers_the_person_not_the_top_corners(seg, photos, name):
    img = photos[name]
    h, w = img.shape[:2]
    mask = seg.segment(img)
    assert mask.mask.shape == (h, w) and mask.mask.dtype == np.float32
    assert 0.0 <= mask.mask.min() and mask.mask.max() <= 1.0
    face = ml.face_mesh().detect(img)[0]
    cx, cy = map(int, face.box.center)
    assert mask.mask[cy - 10:cy + 10, cx - 10:cx + 10].mean() > 0.9      # the face
    assert mask.mask[min(h - 1, cy + int(face.box.height * 1.5)), cx] > 0.9  # the chest below it
    for y, x in ((3, 3), (3, w - 4)):                                      # background corners
        assert mask.mask[y, x] < 0.1
    assert 0.2 < mask.coverage < 0.9


def test_no_person_on_a_rocket(seg, photos):
    assert seg.segment(photos["rocket"]).coverage < 0.01


def test_blur_replace_cutout(seg, photos):
    img = photos["astronaut"]
    mask = seg.segment(img)
    blurred = np.asarray(mask.blur_background(radius=8)).astype(int)
    person = mask.mask > 0.99
    background = mask.mask < 0.01
    assert np.abs(blurred[person] - img[person]).mean() < 1.0
    assert np.abs(blurred[background] - img[background]).mean() > 3.0
    green = np.asarray(mask.replace_background((0, 255, 0)))
    assert np.abs(green[background].astype(int) - [0, 255, 0]).max() <= 3
    rgba = mask.cutout()
    assert rgba.mode == "RGBA" and np.asarray(rgba)[3, 3, 3] < 26
    assert mask.to_image().size == (512, 512)
    assert np.asarray(mask.blur_background(img)).shape == img.shape
    with pytest.raises(ml.InputError, match="mask"):
        mask.blur_background(photos["coffee"])


def test_flipped_mask_is_mirrored(seg, photos):
    img = photos["grace_hopper"]
    plain = seg.segment(img).mask
    flipped = ml.body_segmentation(flipped=True).segment(img)
    assert np.allclose(flipped.mask, plain[:, ::-1])


def test_landscape_model_and_names(photos):
    seg = ml.body_segmentation("selfie-segmentation-landscape")
    assert repr(seg) == "BodySegmentation(model='selfie-segmentation-landscape')"
    assert seg.detect(photos["astronaut"]).coverage > 0.2
    with pytest.raises(ml.UnknownModelError):
        ml.body_segmentation("selfie")


def test_draw_mask_tints_the_person(seg, photos):
    img = photos["astronaut"]
    mask = seg.segment(img)
    drawn = np.asarray(ml.draw(img, mask)).astype(int)
    person = mask.mask > 0.99
    assert np.abs(drawn[person] - img[person]).mean() > 20
    assert np.abs(drawn[mask.mask < 0.01] - img[mask.mask < 0.01]).mean() < 1
