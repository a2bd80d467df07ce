import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import create_app
from config import Config, database_url, instance_secret
from portal import db


def test_testing_config_is_used(app):
    assert app.testing
    assert app.config["RQ_QUEUE"] == "test-imports"


def test_default_config_keeps_generated_secrets_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(Config, "SQLALCHEMY_DATABASE_URI", None)
    monkeypatch.setattr(Config, "SECRET_KEY", None)
    monkeypatch.setattr(Config, "WEBSTORE_SECRETS_KEY", None)

    first = create_app(Config, instance_path=str(tmp_path)).config
    second = create_app(Config, instance_path=str(tmp_path)).config

    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'connector.db'}"
    assert len(first["SECRET_KEY"]) == 64
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["WEBSTORE_SECRETS_KEY"] == second["WEBSTORE_SECRETS_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_processes_starting_at_once_agree_on_a_generated_secret(tmp_path):
    # Another process (a second gunicorn worker) makes the secret while this one makes its own.
    def make_while_another_process_does():
        theirs.append(instance_secret(str(tmp_path), "secret_key", lambda: "theirs"))
        return "mine"

    theirs = []
    mine = instance_secret(str(tmp_path), "secret_key", make_while_another_process_does)

    assert mine == theirs[0] == (tmp_path / "secret_key").read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_environment_settings_win(tmp_path, monkeypatch):
    monkeypatch.setattr(Config, "SQLALCHEMY_DATABASE_URI", "postgresql://u@db.example/erp")
    monkeypatch.setattr(Config, "REDIS_URL", "redis://cache.example:6380/2")

    config = create_app(Config, instance_path=str(tmp_path)).config

    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/erp"
    assert config["REDIS_URL"] == "redis://cache.example:6380/2"


def test_postgresql_urls_use_psycopg_3():
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def pg_only_indexes_left_out(object, name, type_, reflected, compare_to):
    return not (type_ == "index" and name and name.startswith("ix_trgm_"))


def test_migrations_build_the_schema_the_models_describe(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": pg_only_indexes_left_out}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_seed_number_series_and_default_templates(app):
    series = db.session.execute(sa.text("SELECT code FROM number_series ORDER BY code")).scalars()
    assert list(series) == ["CM", "CUST", "ITEM", "PCM", "PSI", "SO"]
    for table in ("customer_templates", "item_templates"):
        codes = db.session.execute(sa.text(f"SELECT code FROM {table}")).scalars()
        assert list(codes) == ["DEFAULT"]
