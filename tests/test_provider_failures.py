"""Every way a model call can fail ends the run with status ``error`` and one clear paragraph."""

from __future__ import annotations

import time

import pytest
from conftest import Reply, code, options

import codeact_magic


def codeact(ip, server, request: str = "do it", extra: str = ""):
    result = ip.run_cell(f"%%codeact {options(server, extra)}\n{request}", store_history=True)
    assert result.success, result.error_in_exec  # the cell itself does not blow up
    return codeact_magic.last_run()


@pytest.mark.parametrize(
    "reply, words",
    [
        (Reply(status=401, error_message="Incorrect API key provided", error_type="invalid_request_error"),
         ["rejected the credentials", "environment"]),
        (Reply(status=404, error_message="The model `scripted` does not exist", error_type="not_found"),
         ["was not found", "openai/<name> with --api-base"]),
        (Reply(status=500, error_message="boom"), ["server failed", "try again"]),
        (Reply(status=400, error_message="messages must not be empty", error_type="invalid_request_error"),
         ["refused the request", "messages must not be empty"]),
    ],
    ids=["bad-key", "unknown-model", "server-error", "bad-request"],
)
def test_provider_errors_are_one_clear_paragraph(ip, model, capsys, reply, words):
    model.reset(reply)
    run = codeact(ip, model)
    assert run.status == "error" and run.steps == []
    for w in words:
        assert w in run.note
    out = capsys.readouterr()
    assert run.note in out.out
    assert "Traceback" not in out.out + out.err


def test_rate_limit_is_retried_with_backoff_then_succeeds(ip, model):
    ip.run_line_magic("config", "CodeAct.rate_limit_retries = 2")
    model.reset(Reply(status=429, error_message="slow down"), Reply(status=429, error_message="slow down"),
                "Fine now.")
    started = time.monotonic()
    run = codeact(ip, model)
    assert run.status == "answered" and run.answer == "Fine now." and len(model.requests) == 3
    assert time.monotonic() - started >= 1.0 + 2.0  # backoff of 1 s, then 2 s


def test_rate_limit_that_persists_is_an_error_after_bounded_retries(ip, model):
    ip.run_line_magic("config", "CodeAct.rate_limit_retries = 1")
    model.reset(*[Reply(status=429, error_message="slow down")] * 5)
    run = codeact(ip, model)
    assert run.status == "error" and "rate limited" in run.note and "after 1 retries" in run.note
    assert len(model.requests) == 2


def test_timeout_waiting_for_the_model(ip, model):
    ip.run_line_magic("config", "CodeAct.request_timeout = 1.0")
    model.reset(Reply("late", delay=5))
    started = time.monotonic()
    run = codeact(ip, model)
    assert run.status == "error" and "did not answer within 1 s" in run.note
    assert time.monotonic() - started < 4.5


def test_stream_cut_mid_reply(ip, model):
    model.reset(Reply("I will now write a long explanation that never ends " * 5, cut_after=30))
    run = codeact(ip, model)
    assert run.status == "error" and "cut off mid-stream" in run.note


def test_unreachable_server(ip, capsys):
    result = ip.run_cell("%%codeact --model openai/nothing --api-base http://127.0.0.1:9/v1\nhi")
    assert result.success
    run = codeact_magic.last_run()
    assert run.status == "error" and "Could not reach" in run.note and "127.0.0.1:9" in run.note


def test_unknown_provider_prefix(ip, model):
    result = ip.run_cell("%%codeact --model nosuchprovider/some-model\nhi")
    assert result.success
    run = codeact_magic.last_run()
    assert run.status == "error" and "was not found" in run.note and "litellm model id" in run.note


def test_rejected_stop_sequences_are_retried_without_them(ip, model):
    # The qwen preset sends stop sequences; this "provider" refuses them, as o3/gpt-5 do.
    model.reset(Reply(reject_stop=True), Reply(code("print(3)"), honor_stop=False), "Three.")
    result = ip.run_cell(f"%%codeact --model openai/qwen-test --api-base {model.url}\nthree")
    assert result.success
    run = codeact_magic.last_run()
    assert run.status == "answered" and run.answer == "Three."
    assert model.requests[0]["stop"] == ["<|im_start|>"]
    assert "stop" not in model.requests[1] and "stop" not in model.requests[2]


def test_empty_reply_is_a_clear_error(ip, model):
    model.reset(Reply(""), Reply(""))  # asked again once (a reply may be dropped in transit)
    run = codeact(ip, model)
    assert run.status == "error" and "empty reply" in run.note and len(model.requests) == 2


def test_failure_after_steps_keeps_what_was_done(ip, model):
    model.reset(code("kept = 'yes'"), Reply(status=500, error_message="down"))
    run = codeact(ip, model)
    assert run.status == "error" and len(run.steps) == 1 and ip.user_ns["kept"] == "yes"


def test_a_server_failure_is_retried_after_the_wait_it_asks_for(ip, model):
    model.reset(Reply(status=503, error_message="overloaded", retry_after="1.5"),
                Reply(status=500, error_message="boom"), "Fine now.")
    started = time.monotonic()
    run = codeact(ip, model)
    assert run.status == "answered" and run.answer == "Fine now." and len(model.requests) == 3
    assert time.monotonic() - started >= 1.5 + 2.0  # the wait asked for, then the backoff's second


def test_a_wait_longer_than_a_minute_ends_the_run_and_says_so(ip, model):
    model.reset(Reply(status=429, error_message="slow down", retry_after="120"), "never sent")
    started = time.monotonic()
    run = codeact(ip, model)
    assert run.status == "error" and "asks to wait 120 s" in run.note
    assert time.monotonic() - started < 5 and len(model.requests) == 1


def test_a_reply_that_drips_is_stopped_at_the_whole_reply_deadline(ip, model):
    ip.run_line_magic("config", "CodeAct.request_timeout = 3.0")
    ip.run_line_magic("config", "CodeAct.reply_timeout = 2.0")
    model.reset(Reply("a reply that comes one word at a time " * 4, chunk_size=4, chunk_delay=0.5))
    started = time.monotonic()
    run = codeact(ip, model)
    assert run.status == "error" and "took longer than 2 s in all" in run.note
    assert time.monotonic() - started < 5


def test_a_stream_that_stalls_is_a_timeout_not_a_lost_connection(ip, model):
    ip.run_line_magic("config", "CodeAct.request_timeout = 1.0")
    model.reset(Reply("first words, then nothing for a long while", chunk_size=12, chunk_delay=4))
    run = codeact(ip, model)
    assert run.status == "error" and "did not answer within 1 s" in run.note, run.note


@pytest.mark.parametrize("raw, words", [
    (("text/html", "<html><head><style>h1{}</style></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"),
     ["text/html", "502 Bad Gateway nginx"]),
    (("application/json", '{"error": {"message": "model is still loading, try later"}}'),
     ["application/json", "model is still loading, try later"]),
], ids=["html-page", "json-error"])
def test_a_200_answer_that_is_not_a_reply_says_what_the_server_said(ip, model, raw, words):
    model.reset(Reply(raw_body=raw))
    run = codeact(ip, model)
    assert run.status == "error" and len(model.requests) == 1, run.note
    for w in words:
        assert w in run.note
