"""?preview=1: the library's draft is sent and flushed before the result is computed, looks
like the result at a smaller scale (geometry in pixels included), and the result is the same
as without the preview."""
import time

import cv2
import pytest

from conftest import IMAGES, Server, decode, multipart_form, multipart_parts

CHAINS = {
    # A crop in pixels, then a slow final encode (PNG at compression 9 of a 1600x1000 image):
    # the draft crops at full size, shrinks, and encodes 512x320.
    "cropped.yaml": """chain:
  - crop: {left: 600, top: 200, width: 1600, height: 1000}
  - adjust_colors: {contrast: 1.1}
output: {format: png, compression: 9}
""",
}


@pytest.fixture
def preview_server(tmp_path):
    folder = tmp_path / "chains"
    folder.mkdir()
    for name, text in CHAINS.items():
        (folder / name).write_text(text)
    s = Server(folder, "--allow-inline-chains")
    yield s
    assert s.stop() == 0


def streamed(server, path, image):
    """(content type, body, seconds to the draft's last byte, seconds to the answer's end)."""
    conn = server.connection(timeout=120)
    try:
        begun = time.monotonic()
        conn.request("POST", path, body=image, headers={"Content-Type": "image/jpeg"})
        response = conn.getresponse()
        assert response.status == 200
        content_type = response.getheader("Content-Type")
        body, draft_at = b"", None
        while True:
            chunk = response.read1(65536)
            if not chunk:
                break
            body += chunk
            if draft_at is None:
                parts = multipart_parts(content_type, body + b"\r\n--end")
                if parts and len(parts[0][1]) == int(parts[0][0]["content-length"]):
                    draft_at = time.monotonic() - begun
        return content_type, body, draft_at, time.monotonic() - begun
    finally:
        conn.close()


def shrunk_psnr(draft, final):
    small = cv2.resize(final, (draft.shape[1], draft.shape[0]), interpolation=cv2.INTER_AREA)
    return cv2.PSNR(draft, small)


def test_the_draft_arrives_before_the_result_is_computed(preview_server):
    photo = (IMAGES / "shell-5120x2880.jpg").read_bytes()
    status, _, final = preview_server.post_image("/v1/chains/cropped", photo, timeout=120)
    assert status == 200
    content_type, body, draft_at, ended_at = streamed(preview_server, "/v1/chains/cropped?preview=1", photo)
    assert content_type.startswith("multipart/x-mixed-replace; boundary=")
    parts = multipart_parts(content_type, body)
    assert [p[0]["content-type"] for p in parts] == ["image/png", "image/png"]
    assert parts[1][1] == final
    draft = decode(parts[0][1])
    assert draft.shape[:2] == (320, 512)
    # The crop ran at full size: the draft is the result, smaller.
    assert shrunk_psnr(draft, decode(final)) > 28
    # The result's encode alone takes most of the answer's time; the draft came well before.
    assert draft_at is not None and draft_at < 0.5 * ended_at, (draft_at, ended_at)


def test_inline_chain_preview_keeps_the_result(preview_server):
    photo = (IMAGES / "autumn-2560x1600.jpg").read_bytes()
    chain = "chain:\n  - resize: {width: 1200}\n  - sharpen: {amount: 0.3}\noutput: {format: webp}\n"
    status, _, final = preview_server.post_form("/v1/run", {"chain": chain, "image": photo})
    assert status == 200
    body, content_type = multipart_form({"chain": chain, "image": photo})
    status, headers, answer = preview_server.request("POST", "/v1/run?preview=1", body,
                                                     {"Content-Type": content_type})
    assert status == 200 and headers["content-type"].startswith("multipart/x-mixed-replace")
    parts = multipart_parts(headers["content-type"], answer)
    assert len(parts) == 2 and parts[1][1] == final
    assert decode(parts[0][1]).shape[:2] == (320, 512)
    assert decode(final).shape[:2] == (750, 1200)


def test_a_refused_preview_is_an_ordinary_error(preview_server):
    photo = (IMAGES / "fruits.jpg").read_bytes()
    chain = """chain:
  - palette: {colors: '{"sea": ["#1d3557", "#457b9d", "#f1faee"], "sun": ["#2b1b3f", "#d9534f", "#fbe3a1"]}', k: 6}
output: {format: png}
"""
    body, content_type = multipart_form({"chain": chain, "image": photo})
    status, headers, answer = preview_server.request("POST", "/v1/run?preview=1", body,
                                                     {"Content-Type": content_type})
    assert status == 400 and headers["content-type"] == "application/json"
    assert b"?variant=NAME" in answer
    status, headers, answer = preview_server.request("POST", "/v1/run?preview=1&variant=sun", body,
                                                     {"Content-Type": content_type})
    assert status == 200
    draft, final = (decode(p[1]) for p in multipart_parts(headers["content-type"], answer))
    assert max(draft.shape[:2]) <= 512 and final.shape[:2] == (480, 512)
