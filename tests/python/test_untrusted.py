"""Chain.from_yaml(untrusted=..., allow_paths=...): the files an untrusted chain's steps read
lie under the allowed folders, and refusals are config errors that quote nothing read."""
import pytest

import imgpipe

PALETTE = '{"warm": ["#2b1d0e", "#a0522d", "#ffd39b"]}'


def chain_text(path):
    return f'chain:\n  - palette: {{palettes: "{path}", k: 4}}\n'


def test_allowed_folder_loads_and_outside_is_refused(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "warm.json").write_text(PALETTE)
    (tmp_path / "secret.txt").write_text("SECRET-LINE\n")

    chain = imgpipe.Chain.from_yaml(chain_text(allowed / "warm.json"), allow_paths=[allowed])
    assert chain.steps[0][1]["palettes"] == str((allowed / "warm.json").resolve())

    with pytest.raises(imgpipe.ConfigError) as refused:
        imgpipe.Chain.from_yaml(chain_text(tmp_path / "secret.txt"), allow_paths=[allowed])
    assert "outside the folders" in str(refused.value)
    assert "SECRET" not in str(refused.value)

    with pytest.raises(imgpipe.ConfigError) as none:
        imgpipe.Chain.from_yaml(chain_text(allowed / "warm.json"), untrusted=True)
    assert "allow-path" in str(none.value)

    # Trusted (the default) reads any regular file.
    assert len(imgpipe.Chain.from_yaml(chain_text(allowed / "warm.json"))) == 1
