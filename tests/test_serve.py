"""`handwriting serve` against a real uvicorn in a subprocess, through a real HTTP client (httpx).

Every class of bad input the file readers refuse gets a 400 with a JSON message (never a
500 or a dropped connection), oversize bodies a 413, and the answers match the library's.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from serve_support import fixture_inks, ink_json  # noqa: E402
from test_fuzz import mutate  # noqa: E402

from handwriting.ink import Ink  # noqa: E402
from handwriting.recognition.recognizer import Alternative, Recognizer  # noqa: E402
from handwriting.serve.app import MAX_BODY_BYTES  # noqa: E402
from handwriting.serve.launch import launch  # noqa: E402
from handwriting.serve.results import dumps, recognition_json  # noqa: E402
from handwriting.serve.schemas import Limits  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with launch("--workers", "2") as server:
        yield server


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def library() -> Recognizer:
    return Recognizer()


@pytest.fixture(scope="module")
def inks() -> list[Ink]:
    return fixture_inks()


def post(client, path: str, body) -> httpx.Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(path, content=data, headers={"Content-Type": "application/json"})


def test_health_and_model(client, library):
    health = client.get("/v1/health").json()
    assert health["status"] == "ok" and health["workers"] == 2 and health["token_required"] is False
    [model] = client.get("/v1/models").json()["models"]
    assert model["name"] == library.name and model["alphabet"] == library.alphabet.chars
    assert model["modes"] == ["text", "word", "character", "digits"] and model["languages"] == ["en"]
    assert model["decoder"] == {"beam": 32, "language_model": True} and "online-handwriting" in model["card"]


def test_recognize_matches_the_library(client, library, inks):
    expected = library.recognize(inks[0])
    answer = post(client, "/v1/recognize", {"ink": ink_json(inks[0]), "alternatives": 3})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["text"] == expected.text and doc["model"] == library.name
    assert [a["text"] for a in doc["alternatives"]] == [a.text for a in expected.alternatives[:3]]
    assert [w["text"] for w in doc["words"]] == [w.text for w in expected.words]
    assert [w["strokes"] for w in doc["words"]] == [list(w.strokes) for w in expected.words]
    assert "".join(c["text"] for c in doc["characters"]) == doc["text"]
    sizes = [len(s) for s in inks[0].strokes]
    for char in doc["characters"]:
        assert all(0 <= s["begin"] < s["end"] <= sizes[s["stroke"]] for s in char["segments"])
    assert {"preprocess", "network", "decode", "queue", "work"} <= set(doc["timings_ms"])


def test_batch_options_and_pre_context(client, library, inks):
    doc = post(client, "/v1/recognize", {"inks": [ink_json(i) for i in inks], "word_alternatives": 3}).json()
    assert [r["text"] for r in doc["results"]] == [r.text for r in library.recognize_batch(inks)]
    assert any(len(w["alternatives"]) > 1 for r in doc["results"] for w in r["words"])
    guided = {"ink": ink_json(inks[1]), "writing_guide": {"width": 800.0, "height": 200}, "mode": "text"}
    plain = post(client, "/v1/recognize", guided).json()
    context = post(client, "/v1/recognize", {**guided, "pre_context": "The end of the previous line, "}).json()
    assert plain["alternatives"][0]["score"] != context["alternatives"][0]["score"]  # the LM saw the context


def test_word_and_character_modes(client, library, inks):
    word = post(client, "/v1/recognize", {"ink": ink_json(inks[0]), "mode": "word"}).json()
    assert word["text"] == library.recognize(inks[0], mode="word").text and " " not in word["text"]
    guided = {"ink": ink_json(inks[0]), "mode": "character", "writing_guide": {"height": 100.0}}
    char = post(client, "/v1/recognize", guided).json()
    assert len(char["text"]) == 1 and all(len(a["text"]) == 1 for a in char["alternatives"])


def test_lines_of_a_two_line_ink_and_multi_line_text(client, inks):
    lower = inks[1].translated(-inks[1].bounds()[0] + inks[0].bounds()[0], inks[0].bounds()[3] - inks[1].bounds()[1] + 300)
    both = inks[0].concat(lower)
    doc = post(client, "/v1/recognize", {"ink": ink_json(both)}).json()
    assert doc["text"].count("\n") == 1
    if "lines" in doc:
        assert len(doc["lines"]) == 2


BAD = [
    (b"", "not JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{", "not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"ink": {"strokes": [[[NaN, 0]]]}}', "NaN"),
    (b'{"ink": {"strokes": [[[Infinity, 0]]]}}', "Infinity"),
    (b'{"ink": {"strokes": [[[1e400, 0]]]}}', "too large"),
    (b'{"ink": {"strokes": [[[1' + b"0" * 5000 + b', 0]]]}}', "too large"),
    (b'{"ink": {"strokes": [[[0, true]]]}}', "2 to 4 numbers"),
    (b'{"ink": {"strokes": [[[0, "1"]]]}}', "2 to 4 numbers"),
    (b'{"ink": {"strokes": [[[0, null]]]}}', "2 to 4 numbers"),
    (b'{"ink": {"strokes": [[[0, 1], [0, 1, 2, 3, 4]]]}}', "stroke 1, point 2"),
    (b'{"ink": {"strokes": [[[0, 1]], []]}}', "stroke 2: a stroke must be a non-empty list"),
    (b'{"ink": {"strokes": [[[0, 1]], 7]}}', "non-empty list"),
    (b'{"ink": {"strokes": []}}', "no strokes"),
    (b'{"ink": {"points": []}}', '"strokes" list'),
    (b'{"ink": [[0, 1]]}', '"strokes" list'),
    (b'{"ink": {"strokes": [[[0, 1]]], "label": 5}}', '"label" must be'),
    (b'{"ink": {"strokes": [[[0, 1]]], "label": "\\udc00"}}', "unpaired surrogate"),
    (b'{"inks": [{"strokes": [[[0, 1]]]}, {"strokes": [[[0, "x"]]]}]}', "inks[1], stroke 1, point 1"),
    (b'{"inks": []}', "non-empty list"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "inks": []}', "either"),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"ink": {"strokes": ' + b"[" * 500 + b"]" * 500 + b"}}", "2 to 4 numbers"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "mode": "sentence"}', "supported: text, word, character, digits"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "writing_guide": {"height": -2}}', "positive number"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "pre_context": "caf\\u00e9"}', "does not know"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "pre_context": 5}', "must be a string"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "alternatives": 0}', "from 1 to 10"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "alternatives": 2.5}', "whole number"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "writing_guide": {"width": -3}}', "positive"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "writing_guide": {"depth": 3}}', "unknown key 'depth'"),
    (b'{"ink": {"strokes": [[[0, 1]]]}, "alternates": 3}', "unknown key 'alternates'"),
]


@pytest.mark.parametrize("body, message", BAD, ids=[m for _, m in BAD])
def test_bad_input_is_a_400_with_a_message(client, body: bytes, message: str):
    answer = post(client, "/v1/recognize", body)
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]


def test_damaged_requests_never_break_the_service(client, inks):
    """Requests damaged the way test_fuzz damages files: an answer (200/400/413) in valid JSON, always."""
    good = json.dumps({"ink": ink_json(inks[0].prefix(120)), "alternatives": 2}).encode()
    rng = random.Random("serve-fuzz")
    statuses = set()
    for _ in range(150):
        answer = post(client, "/v1/recognize", mutate(good, rng))
        statuses.add(answer.status_code)
        assert answer.status_code in (200, 400, 413), answer.text
        assert isinstance(answer.json(), dict)
    assert {200, 400} <= statuses


def test_explain_arrays_are_finite_and_consistent(client, inks):
    answer = post(client, "/v1/explain", {"ink": ink_json(inks[0]), "char": 2, "count": 4})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    frames = len(doc["features"])
    assert frames > 10 and len(doc["log_probs"]) == frames and len(doc["saliency"]) == frames
    assert len(doc["point_saliency"]) == inks[0].num_points and len(doc["cells"]) == 4
    assert all(len(c["values"]) == frames for c in doc["cells"])
    assert doc["target"]["char"] == doc["text"][2]
    numbers = [v for row in doc["saliency"] + doc["log_probs"] for v in row] + doc["point_saliency"]
    assert all(isinstance(v, float | int) and math.isfinite(v) for v in numbers)
    assert post(client, "/v1/explain", {"ink": ink_json(inks[0]), "char": 500}).status_code == 400
    assert post(client, "/v1/explain", {"ink": ink_json(inks[0]), "cells": "loud"}).status_code == 400


def test_non_finite_scores_become_null(library, inks):
    reading = library.recognize(inks[0])
    reading = replace(reading, alternatives=[Alternative("a", -math.inf), Alternative("b", math.nan)])
    doc = json.loads(dumps(recognition_json(reading, inks[0], 5)))
    assert [a["score"] for a in doc["alternatives"]] == [None, None]


def test_oversize_bodies_and_too_many_points(client, server):
    big = b'{"ink": {"strokes": [[' + b"[1, 2]," * (MAX_BODY_BYTES // 7) + b"[1, 2]]]}}"
    answer = post(client, "/v1/recognize", big)
    assert answer.status_code == 413 and "over the" in answer.json()["error"]

    def chunks():  # no Content-Length: the limit is found while reading
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    answer = client.post("/v1/recognize", content=chunks())
    assert answer.status_code == 413 and "over the" in answer.json()["error"]
    points = Limits().max_points
    many = {"ink": {"strokes": [[[float(i % 100), 1.0] for i in range(points + 1)]]}}
    answer = post(client, "/v1/recognize", many)
    assert answer.status_code == 413 and "too many points" in answer.json()["error"]
    answer = post(client, "/v1/recognize", {"inks": [{"strokes": [[[0, 0]]]}] * (Limits().max_inks + 1)})
    assert answer.status_code == 413
    assert client.get("/v1/health").json()["status"] == "ok"  # still serving


def test_google_input_tools_shape(client, library, inks):
    ink = inks[0]
    strokes = [[s[:, 0].tolist(), s[:, 1].tolist(), s[:, 2].tolist()] for s in ink.strokes]
    body = {"options": "enable_pre_space", "app_version": 0.4, "requests": [
        {"writing_guide": {"writing_area_width": 1000, "writing_area_height": 300}, "ink": strokes,
         "language": "en", "max_num_results": 3},
        {"ink": [s[:2] for s in strokes], "language": "en_US"}]}
    answer = client.post("/request?ime=handwriting&app=mobilesearch", content=json.dumps(body))
    status, entries = answer.json()
    assert answer.status_code == 200 and status == "SUCCESS" and len(entries) == 2
    ident, candidates, empty, extra = entries[0]
    assert isinstance(ident, str) and empty == [] and extra == {"is_html_escaped": False}
    assert candidates[0] == library.recognize(ink).text and 1 <= len(candidates) <= 3
    assert entries[1][1][0] == candidates[0]  # times are optional
    refused = [
        {"requests": [{"ink": strokes, "language": "ja"}]},
        {"requests": [{"ink": [[[0, 1], [0]]]}]},
        {"requests": [{"ink": [[[0, "a"], [0, 1]]]}]},
        {"requests": []},
    ]
    for doc in refused:
        answer = client.post("/inputtools/request?ime=handwriting", content=json.dumps(doc))
        assert answer.status_code == 200 and len(answer.json()) == 1, answer.text
        assert answer.json()[0].startswith("FAILED_TO_PARSE_REQUEST_BODY")
    assert len(client.post("/request?ime=transliteration", content=b"{}").json()) == 1


def test_concurrent_clients(server, library, inks):
    bodies = [json.dumps({"ink": ink_json(ink.prefix(n))}).encode() for ink in inks for n in (150, 400, 10_000)]
    expected = [library.recognize(ink.prefix(n)).text for ink in inks for n in (150, 400, 10_000)]

    def client_run(seed: int) -> list[tuple[int, str]]:
        order = random.Random(seed).sample(range(len(bodies)), len(bodies))
        with httpx.Client(base_url=server.url, timeout=60) as own:
            return [(k, own.post("/v1/recognize", content=bodies[k]).json()["text"]) for k in order]

    with ThreadPoolExecutor(8) as threads:
        answers = [a for run in threads.map(client_run, range(8)) for a in run]
    assert len(answers) == 8 * len(bodies)
    assert all(text == expected[k] for k, text in answers)


def test_static_pages(client):
    page = client.get("/")
    assert page.status_code == 200 and "<canvas" in page.text and "text/html" in page.headers["content-type"]
    polyfill = client.get("/handwriting-recognition.js")
    assert "createHandwritingRecognizer" in polyfill.text and "javascript" in polyfill.headers["content-type"]
    assert client.get("/nothing-here").json() == {"error": "Not Found"}
    preflight = client.options("/v1/recognize", headers={"Origin": "https://example.org",
                                                         "Access-Control-Request-Method": "POST",
                                                         "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"


def test_token_and_time_limit(inks):
    with launch("--workers", "1", "--token", "s3cret", "--timeout", "0.02") as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            body = json.dumps({"ink": ink_json(inks[0].concat(inks[1]))}).encode()
            assert client.get("/v1/health").status_code == 200
            refused = client.post("/v1/recognize", content=body)
            assert refused.status_code == 401 and "Bearer" in refused.json()["error"]
            assert client.get("/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
            auth = {"Authorization": "Bearer s3cret"}
            assert client.get("/v1/models", headers=auth).status_code == 200
            worker = the_worker(server)
            os.kill(worker, signal.SIGSTOP)  # past the limit however fast this machine is
            try:
                slow = client.post("/v1/recognize", content=body, headers=auth)
            finally:
                os.kill(worker, signal.SIGCONT)
            assert slow.status_code == 504 and "0.02 s limit" in slow.json()["error"]


def test_non_loopback_bind_needs_a_token():
    run = subprocess.run([sys.executable, "-m", "handwriting.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "--token" in run.stderr


SLOW_LINES = 64  # Limits.max_inks


def slow_request(url: str, inks: list[Ink]) -> tuple[threading.Thread, list]:
    """A request of SLOW_LINES lines sent from a thread, given half a second to reach the
    server's worker pool; its answer lands in the list."""
    body = json.dumps({"inks": [ink_json(inks[0]), ink_json(inks[1])] * (SLOW_LINES // 2)}).encode()
    answers: list = []
    sender = threading.Thread(target=lambda: answers.append(httpx.post(url + "v1/recognize", content=body, timeout=120)))
    sender.start()
    time.sleep(0.5)
    return sender, answers


def the_worker(server) -> int:
    """The pid of a one-worker server's worker process (not the multiprocessing resource tracker)."""
    (pid,) = [pid for pid in server.child_pids() if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
    return pid


def test_sigterm_answers_requests_in_flight_and_ends_the_workers(inks):
    server = launch("--workers", "1")
    worker = the_worker(server)
    os.kill(worker, signal.SIGSTOP)  # the request waits in the pool, in flight, however fast this machine is
    sender, answers = slow_request(server.url, inks)
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    os.kill(worker, signal.SIGCONT)
    sender.join(120)
    server.process.wait(60)
    assert answers and answers[0].status_code == 200 and len(answers[0].json()["results"]) == SLOW_LINES
    time.sleep(0.5)
    assert not _alive(worker)


def test_a_killed_worker_is_a_503_and_is_replaced(inks):
    with launch("--workers", "1") as server:
        worker = the_worker(server)
        os.kill(worker, signal.SIGSTOP)  # the request waits in the pool, in flight, however fast this machine is
        sender, answers = slow_request(server.url, inks)
        os.kill(worker, signal.SIGKILL)
        sender.join(120)
        assert answers[0].status_code == 503 and "worker process stopped" in answers[0].json()["error"]
        again = httpx.post(server.url + "v1/recognize", content=json.dumps({"ink": ink_json(inks[0])}), timeout=120)
        assert again.status_code == 200 and again.json()["text"]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" not in status.read()
    except FileNotFoundError:
        return False


def test_a_full_queue_is_refused_with_503(inks):
    from handwriting.serve.pool import WorkerPool
    from handwriting.serve.schemas import RequestError

    pool = WorkerPool(1, None, {"lm": None}, Limits(), timeout_s=30, max_pending=1)
    pool.start()
    body = json.dumps({"ink": ink_json(inks[0])}).encode()

    async def two_at_once():
        return await asyncio.gather(pool.run("recognize", body), pool.run("recognize", body), return_exceptions=True)

    try:
        first, second = asyncio.run(two_at_once())
    finally:
        pool.close()
    assert first[0] == 200 and json.loads(first[1])["text"]
    assert isinstance(second, RequestError) and second.status == 503 and "busy" in second.message
