"""Secrets never reach printed errors or written pages: key values from the environment, bearer tokens, sk- keys."""

from themepage.lm.redact import REDACTED, redact, redact_data


def test_redacts_environment_keys_bearer_tokens_and_sk_keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "local-secret-value-123")
    monkeypatch.setenv("SOME_OTHER_SETTING", "local-secret-value-123-not-a-key")
    text = ("401 from server: key local-secret-value-123 rejected; headers {'Authorization': 'Bearer abc.DEF-123_x'}"
            "; try sk-proj-AbCdEf0123456789")
    assert redact(text) == (f"401 from server: key {REDACTED} rejected; headers {{'Authorization': 'Bearer "
                            f"{REDACTED}'}}; try {REDACTED}")


def test_leaves_ordinary_text_and_short_values_alone(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "x")  # a placeholder for a local server is no secret
    text = "fallback in fill: timeout after 30 s (x of 3 tries); risk-free pasta"
    assert redact(text) == text


def test_redact_data_walks_nested_values(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "anthropic-key-0001")
    data = {"stats": {"fallbacks": ["fallback in plan: echo anthropic-key-0001"], "lm_calls": 3},
            "placements": [{"title": "Snacks"}]}
    assert redact_data(data) == {"stats": {"fallbacks": [f"fallback in plan: echo {REDACTED}"], "lm_calls": 3},
                                 "placements": [{"title": "Snacks"}]}
