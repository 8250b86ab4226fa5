"""`GET /v1/figures`: the book's figures (tests/collection/kit.py) as JSON and CSV, its
parameters checked, and only the caller's own bills counted."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.access.keys import create_key
from tests.collection.kit import Book, book_app


@pytest.fixture
def booked(tmp_path: Path) -> Iterator[tuple[Flask, Book]]:
    yield from book_app(tmp_path)


def test_figures_as_json_and_as_csv(booked: tuple[Flask, Book]) -> None:
    app, book = booked
    client, auth = app.test_client(), {"Authorization": f"Bearer {book.secret}"}
    answer = client.get(f"/v1/figures?by=segment&batch={book.run_b}", headers=auth)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["by"] == "segment" and body["batch"] == book.run_b
    assert body["as_of"].startswith("2026-12-31T12:00")  # the app's (moved) clock
    forgetful = next(g for g in body["groups"] if g["group"] == "forgetful")
    assert forgetful["amount_due"] == 10000 and forgetful["days_to_pay"]["median"] == 41.0

    as_csv = client.get(f"/v1/figures?batch={book.run_b}", headers={**auth, "Accept": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert f"figures-by-batch-{book.run_b}.csv" in as_csv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    eur = {r["figure"] + "|" + r["about"]: r for r in rows if r["currency"] == "EUR"}
    assert eur["bills|"]["value"] == "5" and eur["amount_due|"]["value"] == "28000"
    assert (eur["paid_by_due|"]["count"], eur["paid_by_due|"]["of"]) == ("1", "5")
    assert eur["paid_within_15d|"]["value"] == "0.6"
    assert eur["p90_days_to_pay|"]["value"] == ""  # not reached yet: empty, not 0
    assert eur[f"dso_change_vs_previous_run|{book.run_a}"]["value"] == "4.11"
    assert eur["cure_before_next|gentle#2"]["value"] == "0.3333"
    same = client.get(f"/v1/figures?batch={book.run_b}&format=csv", headers=auth)
    assert same.get_data() == as_csv.get_data()
    json_wins = client.get("/v1/figures?format=json", headers={**auth, "Accept": "text/csv"})
    assert json_wins.mimetype == "application/json"


def test_bad_parameters_get_422_naming_them(booked: tuple[Flask, Book]) -> None:
    app, book = booked
    client, auth = app.test_client(), {"Authorization": f"Bearer {book.secret}"}
    for query, pointer in [
        ("by=colour", "/by"),
        ("batch=bat_nope", "/batch"),
        ("cure_days=0", "/cure_days"),
        ("cure_days=soon", "/cure_days"),
        ("format=xml", "/format"),
        ("colour=red", "/colour"),
    ]:
        answer = client.get(f"/v1/figures?{query}", headers=auth)
        assert answer.status_code == 422, query
        assert answer.mimetype == "application/problem+json"
        assert [e["pointer"] for e in answer.get_json()["errors"]] == [pointer], query


def test_another_account_sees_none_of_the_bills(booked: tuple[Flask, Book]) -> None:
    app, book = booked
    other = create_key(app.extensions["billreel"].db, "other")
    client, auth = app.test_client(), {"Authorization": f"Bearer {other}"}
    assert client.get("/v1/figures", headers=auth).get_json()["groups"] == []
    assert client.get(f"/v1/figures?batch={book.run_b}", headers=auth).status_code == 422
    assert client.get("/v1/figures").status_code == 401
