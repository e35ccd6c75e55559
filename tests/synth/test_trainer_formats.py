"""Exports fed to real training tooling: `transformers`' `apply_chat_template(..., tools=...)` with
tool-calling chat templates, and TRL's preference-data utilities on the reward-model pairs.

The Hugging Face Hub is out of reach, so the tokenizer is built here (a word-level `tokenizers`
model over the exported text, wrapped in `PreTrainedTokenizerFast`) and carries one of two small
templates written for this test: a strict one that tests for keys' presence (`'tool_calls' in
message`, as Llama 3.1's template does) and wants argument objects, and a lenient one in the style
of Qwen3's (truthiness tests, arguments as string or object) for rows loaded with `datasets`,
where every row has every key.
"""

from __future__ import annotations

import json

import pytest

from tests.synth.conftest import run_cli

pytestmark = pytest.mark.docker

transformers = pytest.importorskip("transformers")
trl_data = pytest.importorskip("trl.data_utils")

STRICT = """
{%- if messages[0].role == 'system' %}<|system|>{{ messages[0].content }}{% endif %}
{%- if tools %}<|tools|>{% for tool in tools %}{{ tool.function | tojson }}{% endfor %}{% endif %}<|end|>
{%- for message in messages %}
  {%- if message.role == 'system' %}
    {%- if not loop.first %}{{ raise_exception('a system message may only come first') }}{% endif %}
  {%- elif message.role == 'user' %}<|user|>{{ message.content }}<|end|>
  {%- elif message.role == 'assistant' %}<|assistant|>{{ message.content }}
    {%- if 'tool_calls' in message %}
      {%- for call in message.tool_calls %}
        {%- if call.function.arguments is string %}{{ raise_exception('arguments must be an object') }}{% endif %}
<tool_call>{"name": "{{ call.function.name }}", "arguments": {{ call.function.arguments | tojson }}}</tool_call>
      {%- endfor %}
    {%- endif %}<|end|>
  {%- elif message.role == 'tool' %}
    {%- if 'tool_call_id' not in message %}{{ raise_exception('a tool result needs its call id') }}{% endif %}
<|tool|>{{ message.content }}<|end|>
  {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|assistant|>{% endif %}
"""

LENIENT = """
{%- for message in messages %}
  {%- if message.role == 'assistant' %}<|assistant|>{{ message.content }}
    {%- if message.tool_calls %}{% for call in message.tool_calls %}
<tool_call>{"name": "{{ call.function.name }}", "arguments": {% if call.function.arguments is string %}{{ call.function.arguments }}{% else %}{{ call.function.arguments | tojson }}{% endif %}}</tool_call>
    {%- endfor %}{% endif %}<|end|>
  {%- else %}<|{{ message.role }}|>{{ message.content }}<|end|>
  {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|assistant|>{% endif %}
"""


def tokenizer_for(texts: list[str], template: str):
    """A word-level tokenizer whose vocabulary is the words of `texts`, with `template`."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    specials = ["[UNK]", "[PAD]", "<|end|>"]
    splitter = pre_tokenizers.Whitespace()
    pieces = [part for text in [*texts, template] for part in text.split("<|end|>")]  # specials split first
    words = {w for text in pieces for w, _ in splitter.pre_tokenize_str(text)}
    vocab = {w: i for i, w in enumerate(specials + sorted(words))}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = splitter
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", eos_token="<|end|>"
    )
    tok.chat_template = template
    return tok


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def exported(synth_run, tmp_path_factory):
    out = {}
    for form in ("object", "string"):
        folder = tmp_path_factory.mktemp(f"trainer-{form}")
        code, stdout = run_cli(
            ["synth", "export", str(synth_run.run_dir), "--output", str(folder), "--tool-arguments", form]
        )
        assert code == 0, stdout
        out[form] = folder
    return out


def test_sft_records_render_with_a_tool_calling_chat_template(exported):
    records = _lines(exported["object"] / "sft.jsonl")
    renderer = tokenizer_for([], STRICT)  # rendering needs no vocabulary; tokenising does
    texts = [renderer.apply_chat_template(r["messages"], tools=r["tools"], tokenize=False) for r in records]
    tok = tokenizer_for(texts, STRICT)
    for record in records:
        text = tok.apply_chat_template(record["messages"], tools=record["tools"], tokenize=False)
        assert text.startswith("<|system|>") and text.count("<|system|>") == 1
        assert '<|tools|>{"description"' in text or '<|tools|>{"name"' in text
        calls = [c for m in record["messages"] for c in m.get("tool_calls", [])]
        assert text.count("<tool_call>") == len(calls)
        first = calls[0]["function"]
        assert json.dumps({"name": first["name"], "arguments": first["arguments"]}) in text.replace(
            "<tool_call>", ""
        )
        ids = tok.apply_chat_template(record["messages"], tools=record["tools"], tokenize=True)
        ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
        assert len(ids) > 50 and tok.unk_token_id not in ids


def test_string_arguments_fail_a_template_that_wants_objects_and_no_key_is_null(exported):
    record = _lines(exported["string"] / "sft.jsonl")[0]
    tok = tokenizer_for([], STRICT)
    with pytest.raises(Exception, match="arguments must be an object"):
        tok.apply_chat_template(record["messages"], tools=record["tools"], tokenize=False)
    for form in ("string", "object"):
        for record in _lines(exported[form] / "sft.jsonl") + _lines(exported[form] / "rm_pairs.jsonl"):
            turns = record.get("messages") or record["prompt"] + record["chosen"] + record["rejected"]
            assert all(None not in m.values() for m in turns)


@pytest.mark.parametrize("form", ["string", "object"])
def test_rm_pairs_are_a_conversational_preference_dataset_for_trl(exported, form):
    import datasets

    path = exported[form] / "rm_pairs.jsonl"
    pairs = datasets.load_dataset("json", data_files=str(path), split="train")
    assert {"prompt", "chosen", "rejected"} <= set(pairs.column_names)
    assert trl_data.is_conversational(pairs[0])
    tok = tokenizer_for([path.read_text()], LENIENT)

    def render(ex):
        text = trl_data.apply_chat_template(
            {k: ex[k] for k in ("prompt", "chosen", "rejected")}, tok, tools=ex["tools"]
        )
        return {f"{k}_text": v for k, v in text.items()}

    rendered = pairs.map(render)
    rendered = rendered.select_columns(["prompt_text", "chosen_text", "rejected_text"]).rename_columns(
        {"prompt_text": "prompt", "chosen_text": "chosen", "rejected_text": "rejected"}
    )
    assert all(isinstance(rendered[0][k], str) for k in ("prompt", "chosen", "rejected"))
    for row, raw in zip(rendered, _lines(path), strict=True):
        assert row["prompt"].startswith("<|system|>") and row["prompt"].endswith("<|assistant|>")
        assert row["chosen"].startswith(raw["chosen"][0]["content"] or "<tool_call>")
        assert '"arguments": {"' in row["chosen"] and '"arguments": "{' not in row["chosen"]
        assert row["chosen"] != row["rejected"]
    # DPO and reward trainers tokenise these three columns; each must tokenise on its own
    ids = tok(rendered[0]["prompt"] + rendered[0]["chosen"])["input_ids"]
    assert len(ids) > len(tok(rendered[0]["prompt"])["input_ids"])
