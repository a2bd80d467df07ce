DATABASE_DOWN = "postgresql://nobody@127.0.0.1:1/none"


def test_healthz_says_ok_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_names_redis_when_it_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("error: ConnectionError")


def test_healthz_names_the_database_when_it_is_down(make_app):
    app = make_app(SQLALCHEMY_DATABASE_URI=DATABASE_DOWN)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"].startswith("error: OperationalError")
    assert response.json["redis"] == "ok"


def test_a_page_whose_database_is_down_answers_a_readable_503(make_app):
    client = make_app(SQLALCHEMY_DATABASE_URI=DATABASE_DOWN).test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
    response = client.get("/setup/")
    assert response.status_code == 503
    assert "The database is not answering right now." in response.text
    assert "Traceback" not in response.text
