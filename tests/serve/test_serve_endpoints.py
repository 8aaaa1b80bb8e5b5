"""Every endpoint of `imgpipe serve`, its answers checked against the CLI on the same inputs
(the CLI runs the same chains without the service: a result must not depend on the front end)
and against OpenCV's decoders."""
import json

import numpy as np

from conftest import IMAGES, decode, json_body, multipart_parts, run_cli


def test_health_readiness_and_listings(server):
    assert server.get("/healthz")[0] == 200
    status, headers, body = server.get("/readyz")
    assert status == 200 and json_body(body)["status"] == "ready"

    chains = {c["name"]: c for c in json_body(server.get("/v1/chains")[2])}
    assert sorted(chains) == ["grey", "posters", "slow", "web"]
    assert chains["posters"]["variants"] == 2 and chains["web"]["format"] == "webp"
    assert chains["grey"]["format"] == "input"

    ops = json_body(server.get("/v1/ops")[2])
    names = {op["name"] for op in (ops if isinstance(ops, list) else ops["operations"])}
    assert {"resize", "palette", "sharpen"} <= names


def test_chain_answers_what_the_cli_writes(server, chains_dir, photo, tmp_path):
    status, headers, body = server.post_image("/v1/chains/web", photo)
    assert status == 200 and headers["content-type"] == "image/webp"
    served = decode(body)
    assert max(served.shape[:2]) == 640

    out = tmp_path / "cli.webp"
    assert run_cli("run", chains_dir / "web.yaml", IMAGES / "fruits.jpg", out).returncode == 0
    np.testing.assert_array_equal(served, decode(out.read_bytes()))


def test_image_as_a_multipart_field(server, photo):
    raw = server.post_image("/v1/chains/web", photo)[2]
    status, headers, body = server.post_form("/v1/chains/web", {"image": photo})
    assert status == 200 and headers["content-type"] == "image/webp"
    assert body == raw


def test_format_and_quality_from_the_query(server, photo):
    status, headers, body = server.post_image("/v1/chains/web?format=png", photo)
    assert status == 200 and headers["content-type"] == "image/png"
    assert body.startswith(b"\x89PNG")
    small = server.post_image("/v1/chains/web?format=jpeg&quality=30", photo)
    large = server.post_image("/v1/chains/web?format=jpeg&quality=95", photo)
    assert small[1]["content-type"] == "image/jpeg" and small[2].startswith(b"\xff\xd8")
    assert len(small[2]) < len(large[2]) * 0.7


def test_chain_without_format_answers_the_input_format(server):
    png = (IMAGES / "coffee.png").read_bytes()
    status, headers, body = server.post_image("/v1/chains/grey", png, "image/png")
    assert status == 200 and headers["content-type"] == "image/png"
    assert decode(body).ndim == 2  # grey
    status, headers, _ = server.post_image("/v1/chains/grey", (IMAGES / "rocket.jpg").read_bytes())
    assert status == 200 and headers["content-type"] == "image/jpeg"


def test_fan_out_answers_one_part_per_variant_or_the_one_asked(server, chains_dir, photo, tmp_path):
    status, headers, body = server.post_image("/v1/chains/posters", photo)
    assert status == 200 and headers["content-type"].startswith("multipart/mixed; boundary=")
    parts = multipart_parts(headers["content-type"], body)
    assert [p[0]["content-disposition"] for p in parts] == [
        'inline; name="sea"; filename="sea.png"', 'inline; name="sun"; filename="sun.png"']
    assert all(p[0]["content-type"] == "image/png" for p in parts)

    out = tmp_path / "cli.png"
    assert run_cli("run", chains_dir / "posters.yaml", IMAGES / "fruits.jpg", out).returncode == 0
    for name, (_, data) in zip(["sea", "sun"], parts):
        np.testing.assert_array_equal(decode(data), decode((tmp_path / f"cli-{name}.png").read_bytes()))

    status, headers, body = server.post_image("/v1/chains/posters?variant=sun", photo)
    assert status == 200 and headers["content-type"] == "image/png"
    assert headers["x-imgpipe-variant"] == "sun" and body == parts[1][1]


def test_palette_endpoint_matches_the_palette_command(server, photo, palettes_json, tmp_path):
    status, headers, body = server.post_form("/v1/palette?k=8", {"image": photo, "palettes": palettes_json})
    assert status == 200
    parts = multipart_parts(headers["content-type"], body)
    names = list(json.loads(palettes_json))
    assert [p[0]["content-disposition"].split('"')[1] for p in parts] == names

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "fruits.jpg").write_bytes(photo)
    (tmp_path / "palettes.json").write_text(palettes_json)
    result = run_cli("palette", tmp_path / "in" / "fruits.jpg", "--palettes", tmp_path / "palettes.json",
                     "--k", 8, "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    for name, (_, data) in zip(names, parts):
        np.testing.assert_array_equal(decode(data), decode((tmp_path / "out" / f"fruits-{name}.png").read_bytes()))


def test_same_photo_with_other_palettes_reuses_the_clustering(server, photo, tmp_path):
    before = server.metrics()
    first = server.post_form("/v1/palette?k=6", {"image": photo, "palettes": '{"a": ["#000", "#f80", "#fff"]}'})
    second = server.post_form("/v1/palette?k=6", {"image": photo, "palettes": '{"b": ["#123", "#9ab", "#eee"]}'})
    assert first[0] == 200 and second[0] == 200
    after = server.metrics()
    assert after["imgpipe_analysis_cache_hits_total"] == before["imgpipe_analysis_cache_hits_total"] + 1
    assert after["imgpipe_analysis_cache_misses_total"] == before["imgpipe_analysis_cache_misses_total"] + 1

    # The cached clustering gives what a fresh one gives (the CLI has no cache).
    (tmp_path / "fruits.jpg").write_bytes(photo)
    result = run_cli("palette", tmp_path / "fruits.jpg", "--colors", "#123,#9ab,#eee", "--name", "b", "--k", 6,
                     "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(decode(second[2]), decode((tmp_path / "out" / "fruits-b.png").read_bytes()))

    # Other clustering parameters are another analysis.
    server.post_form("/v1/palette?k=7", {"image": photo, "palettes": '{"b": ["#123", "#9ab", "#eee"]}'})
    assert server.metrics()["imgpipe_analysis_cache_misses_total"] == after["imgpipe_analysis_cache_misses_total"] + 1


def test_extract_palette_matches_the_command(server, photo):
    status, headers, body = server.post_image("/v1/extract-palette?k=4", photo)
    assert status == 200 and headers["content-type"] == "application/json"
    cli = run_cli("extract-palette", IMAGES / "fruits.jpg", "--k", 4, "--json")
    assert cli.returncode == 0
    assert [c["hex"] for c in json_body(body)] == [c["hex"] for c in json.loads(cli.stdout)]


def test_preview_sends_a_draft_then_the_result(server, photo):
    final = server.post_image("/v1/chains/web", photo)[2]
    status, headers, body = server.post_image("/v1/chains/web?preview=1", photo)
    assert status == 200 and headers["content-type"].startswith("multipart/x-mixed-replace; boundary=")
    parts = multipart_parts(headers["content-type"], body)
    assert len(parts) == 2 and all(p[0]["content-type"] == "image/webp" for p in parts)
    draft = decode(parts[0][1])
    assert max(draft.shape[:2]) <= 640 and parts[1][1] == final
    # A chain that fans out previews one variant.
    assert server.post_image("/v1/chains/posters?preview=1", photo)[0] == 400
    status, headers, body = server.post_image("/v1/chains/posters?preview=1&variant=sea", photo)
    assert status == 200 and len(multipart_parts(headers["content-type"], body)) == 2


def test_metrics_count_requests_by_chain_and_status(server, photo):
    server.post_image("/v1/chains/web", photo)
    server.post_image("/v1/chains/web", b"not an image")
    m = server.metrics()
    assert m['imgpipe_requests_total{chain="web",status="200"}'] >= 1
    assert m['imgpipe_requests_total{chain="web",status="422"}'] == 1
    assert m['imgpipe_request_errors_total{chain="web",category="decode"}'] == 1
    assert m['imgpipe_request_duration_seconds_bucket{le="+Inf"}'] == m["imgpipe_request_duration_seconds_count"]
    assert m["imgpipe_in_flight_requests"] == 0 and m["imgpipe_memory_admitted_bytes"] == 0
    assert m["imgpipe_memory_budget_bytes"] > 0 and m["imgpipe_resident_bytes"] > 0
