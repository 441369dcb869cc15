"""Deployment settings: environment, TOML file, validation, secret key."""

import os
import stat

import pytest

from core.settings import SettingsError, load_settings


def test_defaults_use_a_sqlite_file_in_the_data_dir_and_create_a_private_secret(tmp_path):
    s = load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path / "d")})
    assert s.database_url == f"sqlite:///{tmp_path / 'd' / 'fengqiao.sqlite3'}"
    assert s.enabled_channels is None and s.secure_cookies is True and s.locale == "zh_CN"
    key_file = tmp_path / "d" / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path / "d")}).secret_key == s.secret_key


def test_toml_file_and_environment_precedence(tmp_path):
    cfg = tmp_path / "fengqiao.toml"
    cfg.write_text('enabled_channels = ["general"]\ncase_number_format = "{prefix}-{year}-{seq:05d}"\n'
                   '[channels.general]\nfoo = 1\n[deadlines.general_mediation]\nlimit = 45\n', encoding="utf-8")
    env = {"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_CONFIG": str(cfg), "FENGQIAO_SECRET_KEY": "s" * 40}
    s = load_settings(env=env)
    assert s.enabled_channels == ("general",) and s.channel_settings("general") == {"foo": 1}
    assert s.case_number_format.format(prefix="X", year=2026, seq=7) == "X-2026-00007"
    assert s.deadlines == {"general_mediation": {"limit": 45}}
    s2 = load_settings(env={**env, "FENGQIAO_ENABLED_CHANNELS": "general, court"})
    assert s2.enabled_channels == ("general", "court")


@pytest.mark.parametrize(
    "env,message",
    [
        ({"FENGQIAO_DATABASE_URL": "mysql://x"}, "FENGQIAO_DATABASE_URL"),
        ({"FENGQIAO_SECURE_COOKIES": "maybe"}, "FENGQIAO_SECURE_COOKIES"),
        ({"FENGQIAO_CONFIG": "/nonexistent/fengqiao.toml"}, "does not exist"),
    ],
)
def test_bad_settings_are_one_clear_error(tmp_path, env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": "k", **env})


def test_bad_case_number_format_and_bad_toml(tmp_path):
    cfg = tmp_path / "fengqiao.toml"
    cfg.write_text('case_number_format = "{nope}"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="case_number_format"):
        load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": "k"})
    cfg.write_text("enabled_channels = [", encoding="utf-8")
    with pytest.raises(SettingsError, match="fengqiao.toml"):
        load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": "k"})


def test_deadline_override_from_settings_reaches_the_registry(tmp_path):
    from core.registry import build_registry

    s = load_settings(env={"FENGQIAO_DATA_DIR": str(tmp_path), "FENGQIAO_SECRET_KEY": "k"})
    reg = build_registry(s.with_(deadlines={"general_mediation": {"limit": 45}}), entry_points=False)
    assert reg.deadline_rules["general_mediation"].limit == 45
    from core.channels import RegistrationError

    with pytest.raises(RegistrationError, match="general_judicial_confirmation"):
        build_registry(s.with_(deadlines={"general_judicial_confirmation": {"limit": 60}}), entry_points=False)
