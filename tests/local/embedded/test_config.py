from pathlib import Path

import pytest

from botticelli_embedded import ENV_MODEL, ENV_MODEL_PATH, EmbeddedConfig
from botticelli_error import ConfigurationError


@pytest.fixture
def gguf_file(tmp_path: Path) -> Path:
    path = tmp_path / "my-model.Q4_K_M.gguf"
    path.write_bytes(b"GGUF")
    return path


def test_model_name_defaults_to_the_file_stem(gguf_file: Path) -> None:
    config = EmbeddedConfig(model_path=gguf_file)
    assert config.model == "my-model.Q4_K_M"
    assert config.model_file == gguf_file.name
    assert config.source == str(gguf_file.parent.resolve())


def test_an_explicit_model_name_wins(gguf_file: Path) -> None:
    assert EmbeddedConfig(model_path=gguf_file, model="mine").model == "mine"


def test_a_relative_model_path_is_made_absolute(gguf_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(gguf_file.parent)
    config = EmbeddedConfig(model_path=Path(gguf_file.name))
    assert config.model_path is not None
    assert config.model_path.is_absolute()


def test_a_missing_model_file_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "absent.gguf"
    with pytest.raises(ConfigurationError, match=r"absent\.gguf does not exist") as info:
        EmbeddedConfig.build(model_path=missing)
    assert info.value.provider == "embedded"


def test_a_directory_is_not_a_model_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=f"{tmp_path.name} is not a file"):
        EmbeddedConfig.build(model_path=tmp_path)


def test_the_model_is_given_exactly_one_way(gguf_file: Path) -> None:
    with pytest.raises(ConfigurationError, match="exactly one of model_path or model_id"):
        EmbeddedConfig.build()
    with pytest.raises(ConfigurationError, match="exactly one of model_path or model_id"):
        EmbeddedConfig.build(model_path=gguf_file, model_id="org/Model-GGUF", filename="m.gguf")


def test_a_file_name_goes_only_with_a_hub_model(gguf_file: Path) -> None:
    with pytest.raises(ConfigurationError, match="filename goes with model_id"):
        EmbeddedConfig.build(model_path=gguf_file, filename="other.gguf")


def test_a_hub_model_needs_the_file_name() -> None:
    with pytest.raises(ConfigurationError, match="needs filename"):
        EmbeddedConfig.build(model_id="org/Model-GGUF")
    config = EmbeddedConfig.build(model_id="org/Model-GGUF", filename="model-q4.gguf")
    assert (config.model, config.source, config.model_file) == ("model-q4", "org/Model-GGUF", "model-q4.gguf")


def test_pydantic_field_errors_name_the_field() -> None:
    with pytest.raises(ConfigurationError, match="max_sequences: Input should be greater than 0"):
        EmbeddedConfig.build(model_id="org/M", filename="m.gguf", max_sequences=0)


def test_the_settings_are_immutable(gguf_file: Path) -> None:
    config = EmbeddedConfig(model_path=gguf_file)
    with pytest.raises(ValueError, match="frozen"):
        config.model = "other"  # type: ignore[misc]


def test_from_env_reads_the_path_and_the_name(gguf_file: Path) -> None:
    config = EmbeddedConfig.from_env({ENV_MODEL_PATH: str(gguf_file), ENV_MODEL: "named"})
    assert config.model_path == gguf_file.resolve()
    assert config.model == "named"


def test_from_env_overrides_win(gguf_file: Path) -> None:
    config = EmbeddedConfig.from_env({ENV_MODEL_PATH: str(gguf_file)}, seed=7, max_sequences=2)
    assert (config.seed, config.max_sequences) == (7, 2)


@pytest.mark.parametrize("environ", [{}, {ENV_MODEL_PATH: "  "}])
def test_from_env_without_the_path_names_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match=ENV_MODEL_PATH) as info:
        EmbeddedConfig.from_env(environ)
    assert info.value.provider == "embedded"


def test_from_env_reads_the_process_environment(gguf_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_MODEL_PATH, str(gguf_file))
    monkeypatch.delenv(ENV_MODEL, raising=False)
    assert EmbeddedConfig.from_env().model == "my-model.Q4_K_M"


def test_from_env_with_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nowhere\.gguf does not exist"):
        EmbeddedConfig.from_env({ENV_MODEL_PATH: str(tmp_path / "nowhere.gguf")})


def test_from_env_takes_env_by_keyword(gguf_file: Path) -> None:
    assert EmbeddedConfig.from_env(env={ENV_MODEL_PATH: str(gguf_file)}).model_path == gguf_file.resolve()
