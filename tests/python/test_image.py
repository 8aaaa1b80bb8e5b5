"""Images: numpy in and out without copies, loading, encoding and saving."""
import gc
import pathlib

import numpy as np
import pytest

import imgpipe
from conftest import decoded


def test_array_of_a_loaded_image_is_its_memory(photo):
    a = np.asarray(photo)
    assert a.shape == (photo.height, photo.width, 3) and a.dtype == np.uint8
    assert np.shares_memory(a, np.asarray(photo))
    assert photo.shape == a.shape and photo.source.endswith("rocket.jpg") and photo.source_format == "jpeg"


def test_from_array_wraps_without_a_copy_and_keeps_the_array_alive():
    array = np.random.default_rng(1).integers(0, 256, (48, 64, 4), dtype=np.uint8)
    expected = array.copy()
    image = imgpipe.Image.from_array(array)
    assert np.shares_memory(np.asarray(image), array)
    assert (image.width, image.height, image.channels, image.has_alpha) == (64, 48, 4, True)
    del array
    gc.collect()
    np.testing.assert_array_equal(np.asarray(image), expected)


def test_from_array_row_padding_is_shared_other_layouts_are_copied():
    padded = np.zeros((40, 80, 3), np.uint8)[:, :50]  # rows of 80 pixels, 50 used
    assert np.shares_memory(np.asarray(imgpipe.Image.from_array(padded)), padded)
    transposed = np.zeros((50, 40, 3), np.uint8).transpose(1, 0, 2)  # pixels not packed
    image = imgpipe.Image.from_array(transposed)
    assert not np.shares_memory(np.asarray(image), transposed)
    assert image.shape == (40, 50, 3)
    copied = imgpipe.Image.from_array(np.ones((8, 8), np.uint8), copy=True)
    assert copied.shape == (8, 8)


def test_grey_and_16_bit_arrays():
    grey = np.arange(12 * 10, dtype=np.uint16).reshape(12, 10) * 500
    image = imgpipe.Image.from_array(grey)
    assert (image.channels, image.bit_depth, image.shape) == (1, 16, (12, 10))
    np.testing.assert_array_equal(np.asarray(image), grey)
    np.testing.assert_array_equal(decoded(imgpipe.encode(image, "png")), grey)


@pytest.mark.parametrize("array, message", [
    (np.zeros((4, 4, 3), np.float32), "uint8 or uint16"),
    (np.zeros((4, 4, 5), np.uint8), "1 to 4 channels"),
    (np.zeros(16, np.uint8), "dimensions"),
    (np.zeros((0, 4, 3), np.uint8), "empty"),
])
def test_arrays_the_library_cannot_take_are_config_errors(array, message):
    with pytest.raises(imgpipe.ConfigError, match=message):
        imgpipe.Image.from_array(array)


def test_load_from_path_pathlike_and_bytes_agree(images):
    path = images / "fruits.jpg"
    by_str = decoded(str(path))
    np.testing.assert_array_equal(by_str, decoded(pathlib.Path(path)))
    np.testing.assert_array_equal(by_str, decoded(path.read_bytes()))
    np.testing.assert_array_equal(by_str, decoded(bytearray(path.read_bytes())))


def test_encode_and_save_round_trip(tmp_path, photo):
    png = imgpipe.encode(photo, "png")
    np.testing.assert_array_equal(decoded(png), np.asarray(photo))
    imgpipe.save(photo, tmp_path / "out.png")
    assert (tmp_path / "out.png").read_bytes() == png
    imgpipe.save(photo, tmp_path / "out.webp", quality=70)
    assert (tmp_path / "out.webp").read_bytes()[8:12] == b"WEBP"
    lossless = imgpipe.encode(np.asarray(photo), "webp", lossless=True)
    np.testing.assert_array_equal(decoded(lossless), np.asarray(photo))


def test_save_refuses_an_extension_that_names_another_format(tmp_path, photo):
    with pytest.raises(imgpipe.ConfigError):
        imgpipe.save(photo, tmp_path / "out.png", format="jpeg")
    assert not (tmp_path / "out.png").exists()


def test_load_errors_name_the_file(tmp_path, images):
    with pytest.raises(imgpipe.IoError, match="missing.jpg"):
        imgpipe.load(tmp_path / "missing.jpg")
    with pytest.raises(imgpipe.DecodeError, match="truncated.jpg"):
        imgpipe.load(images / "truncated.jpg")
    with pytest.raises(imgpipe.DecodeError, match="upload.png"):
        imgpipe.load(b"not an image at all", name="upload.png")
    with pytest.raises(imgpipe.ConfigError):
        imgpipe.encode(np.zeros((4, 4, 3), np.uint8), "bmp")


def test_formats_beyond_the_five_are_read_only_when_allowed():
    ppm = b"P6\n2 2\n255\n" + bytes(range(12))
    with pytest.raises(imgpipe.UnsupportedError, match="ppm"):
        imgpipe.load(ppm, name="frame.jpg")
    image = imgpipe.load(ppm, formats=["jpeg", "ppm"])
    np.testing.assert_array_equal(np.asarray(image).reshape(-1), np.arange(12, dtype=np.uint8))
    with pytest.raises(imgpipe.ConfigError, match="bmp"):
        imgpipe.load(ppm, formats="bmp")
