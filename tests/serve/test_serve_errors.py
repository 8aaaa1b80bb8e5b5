"""Every error status of `imgpipe serve`: each answers {"error": category, "message": ...},
and a refused start exits 2 naming the problem."""
import subprocess

import pytest

from conftest import CLI, IMAGES, Server, json_body, slow_request_in_flight

LARGE = IMAGES / "shell-5120x2880.jpg"


def error_of(answer, status):
    got, headers, body = answer
    assert got == status, body
    assert headers["content-type"] == "application/json"
    error = json_body(body)
    assert set(error) == {"error", "message"} and error["message"]
    return error


def test_bad_requests_are_400_and_unknown_routes_404(server, photo):
    missing = error_of(server.post_image("/v1/chains/webb", photo), 404)
    assert "did you mean web" in missing["message"]
    assert error_of(server.get("/v2/nothing"), 404)["error"] == "not_found"
    assert "format" in error_of(server.post_image("/v1/chains/web?format=bmp", photo), 400)["message"]
    assert "quality" in error_of(server.post_image("/v1/chains/web?quality=0", photo), 400)["message"]
    assert "svg" in error_of(server.post_image("/v1/chains/web?format=svg", photo), 400)["message"]
    assert "no variant named moon" in error_of(server.post_image("/v1/chains/posters?variant=moon", photo),
                                               400)["message"]
    assert error_of(server.post_image("/v1/chains/web", b""), 400)["error"] == "config"
    assert "image" in error_of(server.post_form("/v1/chains/web", {"picture": photo}), 400)["message"]
    assert "radius" in error_of(server.post_form("/v1/palette?radius=3", {"image": photo}), 400)["message"]
    assert error_of(server.post_form("/v1/palette?k=300", {"image": photo, "palettes": '["#000", "#fff"]'}),
                    400)["error"] == "config"
    assert error_of(server.post_form("/v1/palette", {"image": photo, "palettes": "{not json"}), 400)
    assert error_of(server.post_image("/v1/extract-palette?k=0", photo), 400)


def test_a_request_names_no_file_on_the_server(server, photo):
    # A palette file named by a request is refused: requests read no files on the server.
    error = error_of(server.post_form("/v1/palette?palettes=/etc/passwd", {"image": photo}), 400)
    assert "/etc/passwd" in error["message"] and "root:" not in error["message"]


def test_undecodable_and_over_the_pixel_limit_are_422(chains_dir, photo):
    server = Server(chains_dir, "--max-pixels", "100000")
    try:
        assert error_of(server.post_image("/v1/chains/web", b"\xff\xd8 not a jpeg"), 422)["error"] == "decode"
        truncated = (IMAGES / "truncated.jpg").read_bytes()[:2000]
        assert error_of(server.post_image("/v1/chains/web", truncated), 422)["error"] == "decode"
        limit = error_of(server.post_image("/v1/chains/web", photo), 422)
        assert limit["error"] == "limit" and "100000" in limit["message"]
    finally:
        assert server.stop() == 0


def test_body_over_the_limit_is_413_and_a_form_encoded_body_415(chains_dir, photo):
    server = Server(chains_dir, "--max-body", "10KB")
    try:
        assert error_of(server.post_image("/v1/chains/web", photo), 413)
        assert error_of(server.post_form("/v1/chains/web", {"image": photo}), 413)
        form = error_of(server.post_image("/v1/chains/web", b"x" * 20000, "application/x-www-form-urlencoded"), 415)
        assert "Content-Type" in form["message"]
    finally:
        assert server.stop() == 0


def test_busy_workers_answer_503_with_retry_after(chains_dir, photo):
    server = Server(chains_dir, "--max-concurrent", "1", "--queue-timeout", "0", "--shutdown-timeout", "0")
    results = []
    try:
        thread, _ = slow_request_in_flight(server, results, LARGE)
        status, headers, body = server.post_image("/v1/chains/web", photo)
        assert status == 503 and headers["retry-after"] == "1"
        assert json_body(body)["error"] == "busy"
    finally:
        assert server.stop() == 0
    thread.join(60)
    assert results[0][0] == 503  # cancelled by the shutdown's deadline


def test_memory_budget_admits_one_alone_refuses_a_second_and_what_never_fits(chains_dir):
    probe = Server(chains_dir, "--shutdown-timeout", "0")
    results = []
    try:
        thread, working_set = slow_request_in_flight(probe, results, LARGE)
    finally:
        assert probe.stop() == 0
    thread.join(60)

    budget = int(working_set * 1.5)
    server = Server(chains_dir, "--max-memory", str(budget), "--analysis-cache", "0", "--queue-timeout", "0",
                    "--max-concurrent", "4", "--shutdown-timeout", "0")
    results = []
    try:
        thread, _ = slow_request_in_flight(server, results, LARGE)
        status, headers, body = server.post_image("/v1/chains/slow", LARGE.read_bytes())
        assert status == 503 and headers["retry-after"] == "1"
        assert "memory budget" in json_body(body)["message"]
    finally:
        assert server.stop() == 0
    thread.join(60)

    small = Server(chains_dir, "--max-memory", str(working_set // 2), "--analysis-cache", "0")
    try:
        error = error_of(small.post_image("/v1/chains/slow", LARGE.read_bytes()), 422)
        assert error["error"] == "limit" and "budget" in error["message"]
    finally:
        assert small.stop() == 0


def test_past_the_deadline_is_504(chains_dir):
    server = Server(chains_dir, "--timeout", "0.3")
    try:
        error = error_of(server.post_image("/v1/chains/slow", LARGE.read_bytes()), 504)
        assert error["error"] == "timeout"
        assert server.metrics()['imgpipe_requests_total{chain="slow",status="504"}'] == 1
    finally:
        assert server.stop() == 0


def test_inline_chains_only_when_allowed_and_only_with_allowed_files(chains_dir, photo, tmp_path):
    chain = "chain:\n  - resize: {max_side: 100}\noutput: {format: png}\n"
    closed = Server(chains_dir)
    try:
        assert error_of(closed.post_form("/v1/run", {"chain": chain, "image": photo}), 403)
    finally:
        assert closed.stop() == 0

    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "p.json").write_text('{"duo": ["#000000", "#ffffff"]}')
    (tmp_path / "secret.json").write_text('{"duo": ["#000000", "#ffffff"]}')
    server = Server(chains_dir, "--allow-inline-chains", "--allow-path", str(allowed), "--max-pixels", "1000000")
    try:
        status, headers, body = server.post_form("/v1/run", {"chain": chain, "image": photo})
        assert status == 200 and headers["content-type"] == "image/png"
        inside = f"chain:\n  - palette: {{palettes: {allowed / 'p.json'}, k: 2}}\noutput: {{format: png}}\n"
        assert server.post_form("/v1/run", {"chain": inside, "image": photo})[0] == 200
        outside = f"chain:\n  - palette: {{palettes: {tmp_path / 'secret.json'}, k: 2}}\n"
        assert "allow" in error_of(server.post_form("/v1/run", {"chain": outside, "image": photo}), 400)["message"]
        broken = error_of(server.post_form("/v1/run", {"chain": "chain:\n  - resize: {wdth: 3}\n", "image": photo}),
                          400)
        assert "<inline chain>:2" in broken["message"]
        # Its settings never loosen the server's: the pixel limit stays.
        loose = "performance: {max_pixels: 0}\nchain:\n  - resize: {max_side: 100}\n"
        big = (IMAGES / "autumn-2560x1600.jpg").read_bytes()
        assert error_of(server.post_form("/v1/run", {"chain": loose, "image": big}), 422)["error"] == "limit"
    finally:
        assert server.stop() == 0


def start_fails(args, env=None):
    result = subprocess.run([CLI, "serve", "--listen", "127.0.0.1:0", *args], capture_output=True, timeout=60,
                            env=env)
    assert result.returncode == 2, result.stderr
    return result.stderr.decode()


def test_a_bad_chain_stops_the_start_naming_file_line_and_column(chains_dir, tmp_path):
    (chains_dir / "broken.yaml").write_text("chain:\n  - resize: {width: 100}\n  - sharpen: {amont: 1}\n")
    message = start_fails(["--chains", str(chains_dir)])
    assert "broken.yaml:3:" in message and "amont" in message
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no chain files" in start_fails(["--chains", str(empty)])
    assert "folder" in start_fails(["--chains", str(tmp_path / "missing")])


def test_settings_come_from_flags_variables_and_the_settings_file(chains_dir, tmp_path, photo):
    settings = tmp_path / "serve.yaml"
    settings.write_text("serve:\n  max_body: 10KB\n  max_concurrent: 2\n")
    server = Server(chains_dir, "--settings", str(settings))
    try:
        assert error_of(server.post_image("/v1/chains/web", photo), 413)
    finally:
        assert server.stop() == 0
    server = Server(chains_dir, "--settings", str(settings), "--max-body", "10MB")  # the flag wins
    try:
        assert server.post_image("/v1/chains/web", photo)[0] == 200
    finally:
        assert server.stop() == 0
    server = Server(chains_dir, env={"IMGPIPE_MAX_PIXELS": "1000"})
    try:
        assert error_of(server.post_image("/v1/chains/web", photo), 422)["error"] == "limit"
    finally:
        assert server.stop() == 0

    settings.write_text("serve:\n  max_bodyy: 10KB\n")
    assert "serve.yaml:2:3" in start_fails(["--chains", str(chains_dir), "--settings", str(settings)])
    assert "--max-memory" in start_fails(["--chains", str(chains_dir), "--max-memory", "lots"])


@pytest.mark.parametrize("port", ["abc", "70000"])
def test_a_bad_port_stops_the_start(chains_dir, port):
    result = subprocess.run([CLI, "serve", "--chains", str(chains_dir)], capture_output=True, timeout=60,
                            env={"PORT": port})
    assert result.returncode == 2 and b"PORT" in result.stderr
