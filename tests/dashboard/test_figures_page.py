"""`/dashboard/figures`: the book's figures (tests/collection/kit.py) as a page without script."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from app.access.keys import create_key
from tests.collection.kit import Book, book_app


@pytest.fixture
def booked(tmp_path: Path) -> Iterator[tuple[Flask, Book]]:
    yield from book_app(tmp_path)


def test_the_figures_page_of_a_run_and_its_csv(booked: tuple[Flask, Book]) -> None:
    app, book = booked
    client = app.test_client()
    assert client.get("/dashboard/figures").status_code == 303  # not logged in
    client.post("/dashboard/login", data={"api_key": book.secret})
    answer = client.get(f"/dashboard/figures?batch={book.run_b}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<script" not in html.lower()
    assert "script-src" not in answer.headers["Content-Security-Policy"]  # none allowed
    assert "280.00 EUR" in html and "160.00 EUR" in html  # due, recovered
    assert "+4.1 d vs previous run" in html
    assert html.count("<polyline") == 2  # EUR and USD curves of run B
    assert "nudge" in html and "33.3 %" in html  # the cure rate of the nudge
    csv = client.get(f"/dashboard/figures.csv?by=tone&batch={book.run_b}")
    assert csv.status_code == 200 and csv.get_data(as_text=True).startswith("by,group,")
    assert client.get("/dashboard/figures?by=colour").status_code == 422
    assert client.get("/dashboard/figures?batch=bat_nope").status_code == 404

    other = create_key(app.extensions["billreel"].db, "other")
    client.post("/dashboard/logout")
    client.post("/dashboard/login", data={"api_key": other})
    assert client.get(f"/dashboard/figures?batch={book.run_b}").status_code == 404
    assert "No bills to count here yet" in client.get("/dashboard/figures").get_data(as_text=True)
