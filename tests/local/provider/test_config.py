"""Reading botticelli.toml: search order, environment overrides, and error messages that say where and what."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import BaseModel

from botticelli.config import find_config_file, load_settings, settings_from_dict
from botticelli.config._messages import validate_named
from botticelli.provider import ModelProvider
from botticelli_error import ConfigurationError
from botticelli_server import ServerClient

LOCAL_TOML = """
[model]
provider = "local"

[model.local]
base_url = "http://127.0.0.1:9000"
model = "phi"
max_retries = 0
"""


def write(folder: Path, text: str, name: str = "botticelli.toml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def empty_env(tmp_path: Path) -> dict[str, str]:
    """An environment where no user configuration directory holds a file."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def test_a_file_is_read_into_immutable_settings(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, LOCAL_TOML), env={})
    local = settings.model.local
    assert (settings.model.provider, local.base_url, local.model, local.options) == (
        "local",
        "http://127.0.0.1:9000",
        "phi",
        {"max_retries": 0},
    )
    with pytest.raises(ValueError, match="frozen"):
        settings.model.local.model = "other"  # type: ignore[misc]


def test_search_order_is_env_variable_then_cwd_then_user_dir(tmp_path: Path) -> None:
    cwd, xdg = tmp_path / "cwd", tmp_path / "xdg"
    user = write(xdg / "botticelli", LOCAL_TOML)
    env = {"XDG_CONFIG_HOME": str(xdg)}
    assert find_config_file(env, cwd=cwd) == user
    here = write(cwd, LOCAL_TOML)
    assert find_config_file(env, cwd=cwd) == here
    named = write(tmp_path, LOCAL_TOML, "elsewhere.toml")
    assert find_config_file({**env, "BOTTICELLI_CONFIG": str(named)}, cwd=cwd) == named


def test_the_user_dir_defaults_to_dot_config_under_home(tmp_path: Path) -> None:
    user = write(tmp_path / ".config" / "botticelli", LOCAL_TOML)
    assert find_config_file({"HOME": str(tmp_path)}, cwd=tmp_path / "empty") == user


def test_a_config_variable_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="BOTTICELLI_CONFIG: no configuration file at"):
        find_config_file({"BOTTICELLI_CONFIG": str(tmp_path / "nope.toml")}, cwd=tmp_path)


def test_an_explicit_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nope\.toml: no such configuration file"):
        load_settings(tmp_path / "nope.toml", env={})


def test_no_file_at_all_leaves_the_environment_to_decide(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={**empty_env(tmp_path), "BOTTICELLI_PROVIDER": "gemini", "GEMINI_MODEL": "g"})
    assert settings.source is None
    assert (settings.model.provider, settings.model.gemini.model) == ("gemini", "g")


def test_environment_variables_override_the_file(tmp_path: Path) -> None:
    env = {
        "BOTTICELLI_PROVIDER": "hybrid",
        "INFERENCE_SERVER_BASE_URL": "http://10.0.0.1:8080",
        "INFERENCE_SERVER_MODEL": "qwen",
        "INFERENCE_SERVER_API_KEY": "local-secret",
        "GEMINI_API_KEY": "AIza-secret",
        "GEMINI_MODEL": "gemini-2.5-pro",
        "BOTTICELLI_EMBEDDED_MODEL_PATH": "other.gguf",
        "BLANK_IS_IGNORED": "",
    }
    settings = load_settings(write(tmp_path, LOCAL_TOML), env=env)
    model = settings.model
    assert (model.provider, model.local.base_url, model.local.model) == ("hybrid", "http://10.0.0.1:8080", "qwen")
    assert model.local.api_key is not None
    assert model.local.api_key.get_secret_value() == "local-secret"
    assert (model.gemini.model, model.embedded.model_path) == ("gemini-2.5-pro", Path("other.gguf"))
    assert settings.origin("model.local.model") == "environment variable INFERENCE_SERVER_MODEL"
    assert settings.origin("model.local.max_retries") == str(tmp_path / "botticelli.toml")
    assert "AIza-secret" not in repr(settings)


def test_a_blank_environment_variable_does_not_override(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, LOCAL_TOML), env={"INFERENCE_SERVER_MODEL": "  "})
    assert settings.model.local.model == "phi"


def test_relative_model_paths_resolve_against_the_config_files_folder(tmp_path: Path) -> None:
    text = (
        '[model.embedded]\nmodel_path = "models/tiny.gguf"\n[server]\npreset = "llama-server"\nmodel_path = "m.gguf"\n'
    )
    settings = load_settings(write(tmp_path / "conf", text), env={})
    assert settings.model.embedded.model_path == tmp_path / "conf" / "models" / "tiny.gguf"
    assert settings.server is not None
    assert settings.server.model_path == tmp_path / "conf" / "m.gguf"


def test_an_api_key_in_the_file_works_but_is_logged_as_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="botticelli")
    path = write(tmp_path, '[model.gemini]\napi_key = "AIza-in-the-file"\n')
    settings = load_settings(path, env={})
    assert settings.model.gemini.api_key is not None
    assert "secret_in_file" in caplog.text
    assert "model.gemini.api_key" in caplog.text
    assert "AIza-in-the-file" not in caplog.text


# -- every mistake names the file, the key and what was expected -------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[model]\nprovider = "openai"\n', "model.provider: unknown provider 'openai'; choose one of local, gemini"),
        (
            '[model]\nprovder = "local"\n',
            "model.provder: unknown key; expected one of embedded, fallback, gemini, hybrid, local",
        ),
        ('[modle]\nprovider = "local"\n', "modle: unknown table; expected [model] or [server]"),
        ('model = "local"\n', "model: expected a table"),
        ("[model.local]\nmodel = 3\n", "model.local.model: Input should be a valid string (got 3)"),
        ("[model.hybrid]\nprefer = 'gemini'\n", "model.hybrid.prefer: Input should be 'local' or 'embedded'"),
        ("[model.hybrid]\ncooldown = -1\n", "model.hybrid.cooldown: Input should be greater than or equal to 0"),
        ("[server]\nmodel_path = 'm.gguf'\n", "server: give exactly one of preset"),
        ("[server]\npreset = 'vllm'\nport = 99999\n", "server.port: Input should be less than or equal to 65535"),
    ],
    ids=[
        "unknown-provider",
        "unknown-key",
        "unknown-table",
        "not-a-table",
        "wrong-type",
        "bad-literal",
        "out-of-range",
        "no-server-command",
        "bad-port",
    ],
)
def test_a_mistake_in_the_file_names_file_key_and_expectation(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path, env={})
    assert f"{path}: {expected}" in caught.value.message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"model": {"local": ["phi"]}}, "model.local: expected a table (a dict, from Python), got a list"),
        ({"model": "local"}, "model: expected a table (a dict, from Python), got a string 'local'"),
        ({"model": {"gemini": None}}, "model.gemini: expected a table (a dict, from Python), got None"),
        (
            {"model": {"provider": "fallback", "fallback": {"chain": "local"}}},
            "model.fallback.chain: expected an array (a list, from Python), got a string 'local'",
        ),
        (
            {"model": {"local": {"model": "phi", "base_urls": "http://a.test"}}},
            "model.local.base_urls: expected an array (a list, from Python), got a string 'http://a.test'",
        ),
        (
            {"server": {"preset": "llama-server", "model": "m.gguf", "adapters": [3]}},
            "server.adapters.0: expected a table (a dict, from Python), got an integer 3",
        ),
        (["model"], "settings: expected a dict of tables such as {'model': {'provider': 'local'}}, got a list"),
    ],
    ids=["section-list", "table-string", "section-none", "chain-string", "urls-string", "adapter-int", "root"],
)
def test_a_wrong_typed_value_from_python_says_what_was_given_and_expected(data: object, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ModelProvider.from_dict(data)  # type: ignore[arg-type]  # the wrong type is the point
    assert caught.value.message.endswith(expected)


def test_a_wrong_typed_value_under_a_credential_name_is_named_by_its_kind_alone() -> None:
    class Keys(BaseModel):
        api_key: tuple[str, ...] = ()

    with pytest.raises(ConfigurationError) as caught:
        validate_named(Keys, {"api_key": "sk-secret-123"}, label=lambda key: f"settings: {key}")
    assert caught.value.message.endswith("settings: api_key: expected an array (a list, from Python), got a string")


def test_bad_toml_syntax_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[model]\nprovider = "local"\nmodel local\n')
    with pytest.raises(ConfigurationError, match=r"not valid TOML: .*line 3"):
        load_settings(path, env={})


def test_a_bad_value_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(write(tmp_path, LOCAL_TOML), env={"BOTTICELLI_PROVIDER": "ollama"})
    assert caught.value.message.startswith("environment variable BOTTICELLI_PROVIDER: model.provider: unknown provider")


def test_a_dict_gets_no_environment_unless_given_one() -> None:
    assert settings_from_dict({}).model.provider == "local"
    assert settings_from_dict({}, env={"BOTTICELLI_PROVIDER": "embedded"}).model.provider == "embedded"


def test_with_values_revalidates_and_records_the_origin() -> None:
    settings = settings_from_dict({"model": {"local": {"model": "phi"}}})
    changed = settings.with_values({"model.provider": "gemini"}, origin="--provider")
    assert (changed.model.provider, changed.origin("model.provider")) == ("gemini", "--provider")
    with pytest.raises(ConfigurationError, match=r"--provider: model\.provider: unknown provider 'nope'"):
        settings.with_values({"model.provider": "nope"}, origin="--provider")


def test_a_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "botticelli.toml"
    path.write_bytes('[model.local]\nmodel = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path, env={})
    assert caught.value.message.startswith(f"{path}: not UTF-8 text")


def test_a_password_in_a_base_url_is_hidden_from_the_settings_repr(tmp_path: Path) -> None:
    path = write(tmp_path, '[model.local]\nmodel = "m"\nbase_url = "http://u:topsecret@10.0.0.1:8080"\n')
    settings = load_settings(path, env={"GEMINI_API_KEY": "AIza-x"})
    assert settings.model.local.base_url == "http://u:topsecret@10.0.0.1:8080"
    for text in (repr(settings), str(settings), repr(settings.model.local)):
        assert "topsecret" not in text


def test_every_backends_variables_come_from_its_section() -> None:
    from botticelli.config import ENV_OVERRIDES, ModelSettings  # noqa: PLC0415 - only this test needs them
    from botticelli.config._backends import BACKEND_MODULES, backend_sections  # noqa: PLC0415

    sections = backend_sections()
    assert [s.name for s in sections] == list(BACKEND_MODULES)
    assert set(BACKEND_MODULES) < set(ModelSettings.model_fields)
    expected = {var: ("model", s.name, key) for s in sections for var, key in s.env.items()}
    assert {k: v for k, v in ENV_OVERRIDES.items() if k != "BOTTICELLI_PROVIDER"} == expected
    for section in sections:
        assert set(section.env.values()) <= set(section.config_class.model_fields), section.name
        for need in section.required:
            assert set(need.keys) <= set(section.config_class.model_fields), section.name


def test_an_api_key_of_the_local_section_in_the_file_names_its_variable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="botticelli")
    load_settings(write(tmp_path, '[model.local]\nmodel = "m"\napi_key = "sk-in-file"\n'), env={})
    assert "INFERENCE_SERVER_API_KEY" in caplog.text
    assert "sk-in-file" not in caplog.text


def test_importing_the_settings_loads_no_backend() -> None:
    import subprocess  # noqa: PLC0415 - only this test starts an interpreter
    import sys  # noqa: PLC0415

    code = (
        "import sys\n"
        "from botticelli.config import load_settings, settings_from_dict, BotticelliSettings\n"
        "settings_from_dict({'model': {'local': {'model': 'phi'}}})\n"
        "backends = ('botticelli_gemini', 'botticelli_embedded', 'botticelli_server')\n"
        "print(sorted(m for m in backends if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_local_sections_dialect_reaches_the_client_config(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, LOCAL_TOML + 'dialect = "llama.cpp"\n'), env={})
    assert settings.model.local.options["dialect"] == "llama.cpp"
    client = ModelProvider(settings).create_client()
    assert isinstance(client, ServerClient)
    assert client.config.dialect == "llama.cpp"
