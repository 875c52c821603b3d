"""Profiles: loading, choosing, secrets from their sources, refusals, and `stomper profile`."""

from __future__ import annotations

import os
import sys

import pytest
from click.testing import CliRunner

from stomper_cli.profile import profile as profile_command
from stomper_cli.profiles import ProfileError, load_profiles, resolve, select_profile

CONFIG = """
[profiles.default]
url = "stomp://127.0.0.1:61613"
login = "guest"
passcode = "S3cretPW"

[profiles.prod]
url = ["stomp+ssl://app:UrlS3cret@a:61614", "stomp+ssl://b:61614"]
passcode_env = "STOMPER_TEST_PROD_PASSCODE"
heart_beat = "5000,5000"
insecure = true
"""


def write(tmp_path, text=CONFIG, mode=0o600):
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_default_profile_is_chosen_when_none_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("STOMPER_PROFILE", raising=False)
    path = write(tmp_path)
    values = select_profile(load_profiles(path), None, path)
    assert values == {"urls": ["stomp://127.0.0.1:61613"], "login": "guest", "passcode": "S3cretPW"}


def test_stomper_profile_names_the_profile_and_passcode_env_supplies_the_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("STOMPER_PROFILE", "prod")
    monkeypatch.setenv("STOMPER_TEST_PROD_PASSCODE", "fromenv")
    path = write(tmp_path)
    values = select_profile(load_profiles(path), None, path)
    assert values["passcode"] == "fromenv"
    assert values["insecure"] is True and values["heart_beat"] == "5000,5000"


def test_passcode_command_takes_the_first_line_of_its_output():
    command = f"{sys.executable} -c \"print('line1'); print('line2')\""
    assert resolve({"passcode_command": command}, "p")["passcode"] == "line1"


def test_failing_passcode_command_names_the_status_not_the_output():
    command = f"{sys.executable} -c \"import sys; print('leak'); sys.exit(3)\""
    with pytest.raises(ProfileError, match="exited with status 3") as caught:
        resolve({"passcode_command": command}, "p")
    assert "leak" not in str(caught.value)


def test_missing_passcode_env_is_one_line(monkeypatch):
    monkeypatch.delenv("STOMPER_TEST_UNSET", raising=False)
    with pytest.raises(ProfileError, match="STOMPER_TEST_UNSET"):
        resolve({"passcode_env": "STOMPER_TEST_UNSET"}, "p")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_file_holding_a_passcode_is_refused(tmp_path, mode):
    path = write(tmp_path, mode=mode)
    with pytest.raises(ProfileError, match="others can read it") as caught:
        load_profiles(path)
    assert "S3cretPW" not in str(caught.value)


def test_readable_file_with_a_passcode_in_a_url_is_refused(tmp_path):
    path = write(tmp_path, '[profiles.x]\nurl = "stomp://u:pw@h"\n', mode=0o644)
    with pytest.raises(ProfileError, match="chmod 600"):
        load_profiles(path)


def test_readable_file_without_secrets_is_accepted(tmp_path):
    path = write(tmp_path, '[profiles.x]\nurl = "stomp://h"\npasscode_env = "X"\n', mode=0o644)
    assert "x" in load_profiles(path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[profiles.x]\nurl = ", "config file"),
        ("[profiles.x]\nuser = 'a'\n", "unknown setting 'user'"),
        ("profiles = 3\n", "[profiles.NAME] tables expected"),
        ("[profiles.x]\npasscode = 'a'\npasscode_env = 'B'\n", "more than one of passcode"),
    ],
)
def test_bad_files_say_what_is_wrong(tmp_path, text, words):
    with pytest.raises(ProfileError, match=words.replace("[", r"\[").replace("]", r"\]")):
        load_profiles(write(tmp_path, text))


def test_unknown_profile_lists_the_known_ones(tmp_path):
    path = write(tmp_path)
    with pytest.raises(ProfileError, match=r"no profile 'nope' .*profiles: default, prod"):
        select_profile(load_profiles(path), "nope", path)


def test_missing_file_is_no_profiles_unless_named(tmp_path):
    assert load_profiles(tmp_path / "absent.toml") == {}
    with pytest.raises(ProfileError, match="does not exist"):
        load_profiles(tmp_path / "absent.toml", required=True)


def test_profile_list_and_show_mask_every_passcode(tmp_path):
    path = write(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(profile_command, ["list", "--config", str(path)])
    assert listed.exit_code == 0 and listed.output.split() == ["default", "prod"]
    for name in ("default", "prod"):
        result = runner.invoke(profile_command, ["show", name, "--config", str(path)])
        assert result.exit_code == 0, result.output
        assert "S3cretPW" not in result.output and "UrlS3cret" not in result.output
    shown = runner.invoke(profile_command, ["show", "prod", "--config", str(path)]).output
    assert "url = stomp+ssl://app:***@a:61614, stomp+ssl://b:61614" in shown
    assert "passcode_env = STOMPER_TEST_PROD_PASSCODE" in shown


def test_profile_show_unknown_name_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(profile_command, ["show", "nope", "--config", str(write(tmp_path))])
    assert result.exit_code == 2 and "no profile 'nope'" in result.output


def test_config_path_follows_xdg(monkeypatch, tmp_path):
    from stomper_cli.profiles import config_path

    monkeypatch.delenv("STOMPER_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "stomper" / "config.toml"
    monkeypatch.setenv("STOMPER_CONFIG", os.fspath(tmp_path / "x.toml"))
    assert config_path() == tmp_path / "x.toml"
