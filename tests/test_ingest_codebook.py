"""Ingest parses the codebook only when a file to read goes through it (a survey export): posts alone load
without it, and a survey file still gets the codebook before anything loads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analytics import codebook, config, ingest, sources

HOSTILE_FILES = Path(__file__).resolve().parent / "hostile" / "files"


def test_codebook_modules_are_the_adapters_that_read_through_the_codebook():
    through_codebook = {module.__name__.rpartition(".")[2] for module in sources.adapters()
                        if hasattr(module, "load_codebook")}
    assert through_codebook == set(sources.CODEBOOK_MODULES)


def test_needs_codebook_names_survey_formats_only():
    needing = {fmt for fmt, _ in sources.known_formats() if sources.needs_codebook(fmt)}
    assert {"qualtrics", "surveymonkey", "google_forms", "ms_forms"} <= needing
    assert not needing & {"monitoring", "roster", "x", "incidents"}
    assert not sources.needs_codebook("no such format")


def _refusing_codebook(monkeypatch, calls: list[int]):
    def refuse(*args, **kwargs):
        calls.append(1)
        raise ValueError("codebook refused by the test")

    monkeypatch.setattr(ingest, "load_codebook", refuse)


def test_posts_only_folder_loads_without_the_codebook(tmp_path, fresh_warehouse, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(HOSTILE_FILES / "monitoring_duplicate_rows.csv", folder)
    calls: list[int] = []
    _refusing_codebook(monkeypatch, calls)
    results = ingest.ingest_paths([folder], warehouse_file=fresh_warehouse)
    assert calls == [] and [r.status for r in results] == ["loaded"] and results[0].rows_loaded > 0


def test_a_survey_file_gets_the_codebook_before_anything_loads(tmp_path, fresh_warehouse, monkeypatch):
    surveys = [p for p in sorted(config.SAMPLE_DIR.rglob("*")) if p.is_file() and p.name != "truth.json"
               and sources.needs_codebook(sources.detect(p)[0])]
    assert surveys, "the committed sample has survey exports"
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(surveys[0], folder)
    shutil.copy(HOSTILE_FILES / "monitoring_duplicate_rows.csv", folder)
    calls: list[int] = []
    _refusing_codebook(monkeypatch, calls)
    with pytest.raises(ValueError, match="refused"):
        ingest.ingest_paths([folder], warehouse_file=fresh_warehouse)
    assert calls == [1]
    monkeypatch.setattr(ingest, "load_codebook", codebook.load_codebook)
    results = ingest.ingest_paths([folder], warehouse_file=fresh_warehouse)
    assert sorted(r.status for r in results) == ["loaded", "loaded"]
