"""Chains from Python give what the CLI gives for the same chain and input, through the same
job runner; every error category the library has reaches Python as its class."""
import json
import subprocess

import numpy as np
import pytest

import imgpipe
from conftest import decoded

# adjust_colors first: a chain that begins by shrinking decodes a JPEG smaller in the job
# runner (shrink-on-load), which an image loaded whole beforehand cannot.
CHAIN_YAML = """\
chain:
  - adjust_colors: {brightness: 1.1, contrast: 1.2}
  - resize: {width: 320}
  - sharpen: {amount: 0.5}
output: {format: png}
"""


def test_chain_from_steps_in_every_spelling():
    chain = imgpipe.Chain([{"resize": {"width": 100}}, ("sharpen", {"amount": 0.5}), "grayscale"])
    assert [name for name, _ in chain.steps] == ["resize", "sharpen", "grayscale"]
    assert chain.steps[1][1]["amount"] == 0.5 and len(chain) == 3
    assert chain.canonical == imgpipe.Chain.from_yaml(
        "chain:\n  - resize: {width: 100}\n  - sharpen: {amount: 0.5}\n  - grayscale: {}\n").canonical
    assert repr(chain) == "<imgpipe.Chain resize -> sharpen -> grayscale>"
    assert len(imgpipe.Chain()) == 0


def test_colour_parameters_as_tuples_or_text():
    a = imgpipe.Chain([{"border": {"size": 4, "colour": (255, 0, 0)}}])
    b = imgpipe.Chain([{"border": {"size": 4, "colour": "#ff0000"}}])
    assert a.canonical == b.canonical


def test_run_equals_the_cli_on_the_same_chain(tmp_path, images, cli):
    (tmp_path / "chain.yaml").write_text(CHAIN_YAML)
    subprocess.run([cli, "run", str(tmp_path / "chain.yaml"), str(images / "fruits.jpg"),
                    str(tmp_path / "cli.png")], check=True)
    chain = imgpipe.Chain.from_yaml(str(tmp_path / "chain.yaml"))
    out = chain.run(imgpipe.load(images / "fruits.jpg"))
    np.testing.assert_array_equal(np.asarray(out), decoded(tmp_path / "cli.png"))
    # Encoded by the job runner: the very bytes the CLI wrote.
    assert chain.encode((images / "fruits.jpg").read_bytes())[""] == (tmp_path / "cli.png").read_bytes()
    written = chain.run_file(images / "fruits.jpg", tmp_path / "py.png")
    assert written == {"": str(tmp_path / "py.png")}
    assert (tmp_path / "py.png").read_bytes() == (tmp_path / "cli.png").read_bytes()


def test_a_chain_does_not_write_into_the_array_it_was_given(images):
    array = np.asarray(imgpipe.load(images / "butterfly.jpg")).copy()
    before = array.copy()
    chain = imgpipe.Chain([{"adjust_colors": {"brightness": 1.3}}, "grayscale", "sharpen"])
    out = chain.run(array)
    np.testing.assert_array_equal(array, before)
    assert not np.shares_memory(np.asarray(out), array)


def test_palette_variants_and_their_encoded_pngs(tmp_path, images, cli):
    palettes = tmp_path / "palettes.json"
    palettes.write_text(json.dumps({"warm": ["#2b1d0e", "#a0522d", "#ffd39b"], "cool": ["#0b1d3a", "#4682b4",
                                                                                           "#e0ffff"]}))
    chain = imgpipe.Chain([{"palette": {"palettes": str(palettes), "k": 6}}])
    image = imgpipe.load(images / "rocket.jpg")
    variants = chain.run_variants(image)
    assert sorted(variants) == ["cool", "warm"]
    assert len(np.unique(np.asarray(variants["warm"]).reshape(-1, 3), axis=0)) <= 3
    with pytest.raises(imgpipe.ConfigError, match="variants"):
        chain.run(image)
    encoded = chain.encode(image, format="png")
    np.testing.assert_array_equal(decoded(encoded["cool"]), np.asarray(variants["cool"]))
    # The same as the CLI's palette command writes for the same palettes and k.
    subprocess.run([cli, "palette", str(images / "rocket.jpg"), "--palettes", str(palettes), "--k", "6",
                    "--strategy", "auto", "-o", str(tmp_path / "cli")], check=True)
    np.testing.assert_array_equal(decoded(tmp_path / "cli" / "rocket-warm.png"), np.asarray(variants["warm"]))


def test_encode_takes_the_chain_files_output_settings(images):
    chain = imgpipe.Chain.from_yaml("chain:\n  - resize: {width: 64}\noutput: {format: webp, quality: 60}\n")
    assert chain.output_format == "webp"
    data = chain.encode((images / "rocket.jpg").read_bytes())[""]
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    with pytest.raises(imgpipe.ConfigError, match="format="):
        imgpipe.Chain(["grayscale"]).encode(imgpipe.load(images / "rocket.jpg"))


def test_every_reachable_error_category_is_its_class(tmp_path, images):
    photo = imgpipe.load(images / "rocket.jpg")
    with pytest.raises(imgpipe.ConfigError) as config:
        imgpipe.Chain([{"resize": {"width": -1}}])
    assert config.value.category == "config" and "resize.width" in str(config.value)
    with pytest.raises(imgpipe.ConfigError, match="frobnicate"):
        imgpipe.Chain(["frobnicate"])
    with pytest.raises(imgpipe.DecodeError):
        imgpipe.Chain(["grayscale"]).encode(b"\xff\xd8\xff garbage", format="png")
    small = imgpipe.Chain.from_yaml("performance: {max_pixels: 1000}\nchain:\n  - grayscale: {}\n")
    with pytest.raises(imgpipe.LimitError, match="1000"):
        small.run(photo)
    with pytest.raises(imgpipe.IoError):
        imgpipe.Chain(["grayscale"]).run_file(tmp_path / "none.jpg", tmp_path / "out.png")
    with pytest.raises(imgpipe.ConfigError, match="svg"):
        imgpipe.Chain(["grayscale"]).encode(photo, format="svg")
    with pytest.raises(imgpipe.UnsupportedError, match="whole image"):
        imgpipe.Chain(["pop_art"]).run_file(images / "rocket.jpg", tmp_path / "pop.png", stream=True)
    # A device this process cannot use (no CUDA device here) is refused before any step, naming
    # what is missing.
    with pytest.raises(imgpipe.DeviceError, match="device cuda: "):
        imgpipe.Chain(["grayscale"]).run(photo, device="cuda")
    # The deadline is checked before each step (a step that has started finishes).
    big = imgpipe.Image.from_array(np.zeros((2000, 2000, 3), np.uint8))
    slow = imgpipe.Chain([{"gaussian_blur": {"sigma": 20}}, "pop_art", {"gaussian_blur": {"sigma": 20}}])
    with pytest.raises(imgpipe.TimeoutError, match="time limit"):
        slow.run(big, timeout=1e-6, threads=1)
    # Not reachable from valid calls; DeviceError waits for a device path (per-image failures).
    for name in ("CancelledError", "InternalError", "DeviceError"):
        assert issubclass(getattr(imgpipe, name), imgpipe.Error)


def test_run_batch_writes_what_the_cli_batch_writes(tmp_path, photos_dir, cli):
    chain_file = tmp_path / "chain.yaml"
    chain_file.write_text(CHAIN_YAML.replace("format: png", 'format: webp, quality: 80, path: "{stem}.webp"'))
    records = imgpipe.run_batch(str(chain_file), photos_dir, tmp_path / "py")
    assert [r["status"] for r in records] == ["ok"] * 4
    subprocess.run([cli, "-q", "batch", str(chain_file), "--input", str(photos_dir), "--output",
                    str(tmp_path / "cli"), "--no-cache"], check=True)
    for record in records:
        name = record["outputs"][0].split("/")[-1]
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    again = imgpipe.run_batch(imgpipe.Chain.from_yaml(chain_file), [photos_dir], tmp_path / "py", resume=True)
    assert [r["status"] for r in again] == ["skipped"] * 4


def test_ops_lists_every_operation_with_its_parameters():
    ops = {op["name"]: op for op in imgpipe.ops()}
    assert {"resize", "palette", "median", "vectorize"} <= set(ops)
    assert any(p["name"] == "width" for p in ops["resize"]["params"])
