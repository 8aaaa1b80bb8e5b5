"""The palette engine from Python: the same clusters and colours as the CLI."""
import json
import subprocess

import numpy as np
import pytest

import imgpipe


def test_cluster_and_apply_a_palette_of_strings_or_tuples(photo):
    clustering = imgpipe.cluster(photo, 4)
    assert clustering.k == 4 and abs(sum(clustering.fractions) - 1) < 1e-9
    assert len(clustering.centers) == 4 and all(len(c) == 3 for c in clustering.centers)
    lightness = [lab[0] for lab in clustering.centers_lab]
    assert lightness == sorted(lightness)  # darkest first
    labels = np.asarray(clustering.labels)
    assert labels.shape == (photo.height, photo.width) and labels.max() == 3
    palette = ["#000000", (255, 0, 0), "#00ff00", (255, 255, 255)]
    out = np.asarray(clustering.apply(palette))
    colours = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [255, 255, 255]], np.uint8)
    np.testing.assert_array_equal(out, colours[labels])  # lightness rank → palette order
    centres = np.asarray(clustering.apply_centers())
    np.testing.assert_array_equal(centres, np.array(clustering.centers, np.uint8)[labels])
    assert clustering.mean_lab_error() > 0


def test_a_mask_leaves_pixels_out(photo):
    mask = np.zeros((photo.height, photo.width), np.uint8)
    mask[:, : photo.width // 2] = 255
    clustering = imgpipe.cluster(photo, 3, mask=mask)
    labels = np.asarray(clustering.labels)
    assert (labels[:, photo.width // 2:] == 255).all() and (labels[:, : photo.width // 2] < 3).all()
    with pytest.raises(imgpipe.ConfigError, match="mask"):
        imgpipe.cluster(photo, 3, mask=np.zeros((4, 4), np.uint8))


def test_bad_palettes_are_config_errors(photo):
    clustering = imgpipe.cluster(photo, 3)
    for bad in (["#12345"], [(300, 0, 0)], [1.5], []):
        with pytest.raises(imgpipe.ConfigError):
            clustering.apply(bad)
    with pytest.raises(imgpipe.ConfigError, match="mapping"):
        clustering.apply(["#000"], mapping="random")


def test_extract_palette_equals_the_cli(images, cli):
    printed = subprocess.run([cli, "extract-palette", str(images / "fruits.jpg"), "--k", "5", "--json"],
                             check=True, capture_output=True, text=True).stdout
    from_cli = json.loads(printed)
    from_python = imgpipe.extract_palette(imgpipe.load(images / "fruits.jpg"), 5)
    assert [c["hex"] for c in from_python] == [c["hex"] for c in from_cli]
    assert [c["fraction"] for c in from_python] == pytest.approx([c["fraction"] for c in from_cli])
    assert from_python[0]["rgb"] == tuple(from_cli[0]["rgb"])
