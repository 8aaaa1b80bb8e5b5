"""Shared fixtures of the Python module's tests. CTest runs them with PYTHONPATH at the
build's python/ folder and IMGPIPE_CLI / IMGPIPE_SHARED_IMAGES set (tests/CMakeLists.txt)."""
import os
import pathlib
import shutil

import numpy as np
import pytest

import imgpipe

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMAGES = pathlib.Path(os.environ.get("IMGPIPE_SHARED_IMAGES", ROOT.parent / "shared" / "images"))
CLI = os.environ.get("IMGPIPE_CLI", str(ROOT / "build" / "tools" / "imgpipe" / "imgpipe"))


@pytest.fixture
def images():
    return IMAGES


@pytest.fixture
def cli():
    return CLI


@pytest.fixture
def photo():
    """A real photo, decoded by the library."""
    return imgpipe.load(IMAGES / "rocket.jpg")


@pytest.fixture
def photos_dir(tmp_path):
    """A folder of four real photos of different sizes and content."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("rocket.jpg", "fruits.jpg", "building.jpg", "butterfly.jpg"):
        shutil.copy(IMAGES / name, folder / name)
    return folder


def decoded(path_or_bytes):
    """Pixels as a numpy array, decoded by the library."""
    return np.asarray(imgpipe.load(path_or_bytes)).copy()
