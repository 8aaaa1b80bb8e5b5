"""The examples of docs/python.md run as written, in order, in one namespace."""
import os
import pathlib
import re
import shutil

ROOT = pathlib.Path(os.environ.get("IMGPIPE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def test_every_example_in_docs_python_md_runs(tmp_path, images, monkeypatch):
    text = (ROOT / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    shutil.copy(images / "fruits.jpg", tmp_path / "photo.jpg")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "docs_python_md"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"docs/python.md block {number}", "exec"), namespace)
        except Exception as e:
            raise AssertionError(f"docs/python.md block {number} failed: {e!r}\n{block}") from e
    assert (tmp_path / "small.webp").exists()
    assert (tmp_path / "out" / "one.webp").exists()
