"""Packing: slices carry their true line ranges, the budget holds, big files are cut."""

from __future__ import annotations

import re

from bot.context import build_repo_map, pack_context, rank_files

METHODS = "\n".join(
    f"    def method_{i}(self, value):\n"
    f'        """Step {i} of the pipeline."""\n'
    + "".join(f"        value = value * {i} + {j}\n" for j in range(12))
    + "        return value\n"
    for i in range(60)
)
BIG = (
    "import os\n\n\n"
    "class Pipeline:\n"
    '    """Runs every step."""\n\n' + METHODS + "\n    def flush_buffers(self, sink):\n"
    "        sink.write(self.buffer)\n"
    "        sink.close()\n"
)
REPO = {
    "README.md": "# Demo\n\nA demo project.\n",
    "app/pipeline.py": BIG,
    "app/small.py": "def tiny():\n    return 'flush'\n",
    "app/other.py": "\n".join(f"def unrelated_{i}():\n    return {i}\n" for i in range(50)),
}
HEADER = re.compile(r"^### (\S+) lines (\d+)-(\d+)$", re.M)


def packed(query: str, budget: int = 16000):
    repo_map = build_repo_map(REPO)
    return pack_context(repo_map, rank_files(repo_map, query), query, budget_tokens=budget)


def test_each_slice_header_matches_the_lines_under_it() -> None:
    result = packed("Pipeline.flush_buffers does not close the sink")
    assert result.slices
    for m in HEADER.finditer(result.text):
        path, start, end = m.group(1), int(m.group(2)), int(m.group(3))
        assert (path, start, end) in result.slices
        body = result.text[m.end() :].split("\n", 2)[2]  # skip the ``` fence line
        expected = "\n".join(REPO[path].splitlines()[start - 1 : end])
        assert body.startswith(expected + "\n```")


def test_big_file_is_cut_to_the_relevant_method_with_its_class_signature() -> None:
    result = packed("Pipeline.flush_buffers does not close the sink", budget=2000)
    lines = BIG.splitlines()
    flush = next(i for i, ln in enumerate(lines, 1) if "def flush_buffers" in ln)
    klass = next(i for i, ln in enumerate(lines, 1) if ln.startswith("class Pipeline"))
    spans = [(s, e) for p, s, e in result.slices if p == "app/pipeline.py"]
    assert any(s <= flush and flush + 2 <= e for s, e in spans)
    assert any(s <= klass <= e for s, e in spans)
    assert sum(e - s + 1 for s, e in spans) < len(lines) // 2


def test_budget_is_respected_and_files_are_listed() -> None:
    for budget in (500, 2000, 8000):
        result = packed("flush_buffers method_3 tiny", budget=budget)
        assert result.tokens <= budget
        assert result.files == list(dict.fromkeys(p for p, _, _ in result.slices))


def test_small_top_file_goes_in_whole_and_readme_excerpt_leads() -> None:
    result = packed("tiny returns the wrong word")
    assert ("app/small.py", 1, 2) in result.slices
    assert result.slices[0][0] == "README.md"


def test_instructions_come_first() -> None:
    repo_map = build_repo_map(REPO)
    result = pack_context(repo_map, rank_files(repo_map, "tiny"), "tiny", 4000, "Use tabs.")
    assert result.text.startswith("### Instructions\nUse tabs.")


def test_frame_line_and_cross_file_callee_are_packed_from_large_files(monkeypatch) -> None:
    from bot.context import pack

    monkeypatch.setattr(pack, "CALLEE_SHARE", 0.6)
    noise = "\n".join(
        f"def noise_{i}(value):\n"
        + "".join(f"    value += {j}\n" for j in range(30))
        + "    return value\n"
        for i in range(40)
    )
    entry = "def entry(job):\n    return normalize_payload(job)\n\n" + noise
    helpers = noise + "\n\ndef normalize_payload(job):\n    return dict(job)\n"
    repo = {"svc/entry.py": entry, "svc/helpers.py": helpers, "svc/unrelated.py": noise}
    issue = (
        "Crash in entry\n\nTraceback (most recent call last):\n"
        '  File "/srv/svc/entry.py", line 2, in entry\nTypeError: bad job'
    )
    repo_map = build_repo_map(repo)
    result = pack_context(repo_map, rank_files(repo_map, issue), issue, budget_tokens=1200)
    assert any(p == "svc/entry.py" and s <= 2 <= e for p, s, e in result.slices)
    line = helpers.splitlines().index("def normalize_payload(job):") + 1
    assert any(p == "svc/helpers.py" and s <= line <= e for p, s, e in result.slices)


def _long_function() -> str:
    body = "".join(f"    total = total + step_{i}(value)\n" for i in range(120))
    return (
        "def process(value):\n"
        '    """Run every step."""\n'
        "    total = 0\n" + body + "    if total < 0:\n"
        "        raise OverflowError('negative checksum in ledger')\n"
        "    return total\n"
    )


def test_long_function_is_cut_to_the_matching_piece_after_its_signature() -> None:
    src = (
        _long_function()
        + "\n\n"
        + "\n".join(f"def step_{i}(v):\n    return v + {i}\n" for i in range(120))
    )
    repo_map = build_repo_map({"core/ledger.py": src})
    issue = "process raises OverflowError: negative checksum in ledger"
    result = pack_context(repo_map, rank_files(repo_map, issue), issue, budget_tokens=700)
    lines = src.splitlines()
    raise_at = next(i for i, ln in enumerate(lines, 1) if "OverflowError" in ln)
    spans = [(s, e) for p, s, e in result.slices if p == "core/ledger.py"]
    assert any(s <= raise_at <= e for s, e in spans)
    assert any(s == 1 for s, _ in spans)  # the signature of the function the piece is from
    assert not any(s <= 60 <= e for s, e in spans)  # not the whole function


def test_function_a_top_unit_passes_around_follows_it() -> None:
    noise = "\n".join(
        f"def noise_{i}(objs):\n"
        + "".join(f"    objs = objs + [{j}]\n" for j in range(20))
        + "    return objs\n"
        for i in range(30)
    )
    src = (
        "def concat(objs, join='outer'):\n"
        '    """Concatenate objects; missing variables are an error today."""\n'
        "    f = _dataset_concat\n"
        "    return f(objs, join)\n\n\n" + noise + "\n\n"
        "def _dataset_concat(objs, join):\n"
        "    for ds in objs:\n"
        "        merged = ds\n"
        "    return merged\n"
    )
    repo_map = build_repo_map({"pkg/concat.py": src, "pkg/other.py": noise})
    issue = "concat: ignore missing variables when concatenating with join outer"
    result = pack_context(repo_map, rank_files(repo_map, issue), issue, budget_tokens=600)
    target = src.splitlines().index("def _dataset_concat(objs, join):") + 1
    assert any(p == "pkg/concat.py" and s <= target <= e for p, s, e in result.slices)


def test_readme_excerpt_only_takes_what_the_code_leaves() -> None:
    readme = "# Demo\n\n" + "".join(f"Line {i} of the long introduction.\n" for i in range(200))
    repo = {**REPO, "README.md": readme}
    repo_map = build_repo_map(repo)
    query = "Pipeline.flush_buffers does not close the sink"
    ranked = rank_files(repo_map, query)
    tight = pack_context(repo_map, ranked, query, budget_tokens=1500)
    roomy = pack_context(repo_map, ranked, query, budget_tokens=16000)
    readme_lines = [[e for p, _, e in r.slices if p == "README.md"] or [0] for r in (tight, roomy)]
    assert readme_lines[0][0] < readme_lines[1][0]
    assert roomy.slices[0][0] == "README.md"
    assert tight.tokens <= 1500


def test_a_jupyter_frame_packs_its_method_by_qualified_name() -> None:
    # The reporter's installed version has other line numbers (9999): the frame's
    # `Pipeline.method_41` is what points at the method; `method_7` is only mentioned.
    issue = (
        "Pipeline fails on negative values, see also `method_7`\n\n"
        "```\nValueError                    Traceback (most recent call last)\n"
        "File ~/env/lib/python3.11/site-packages/app/pipeline.py:9999, in "
        "Pipeline.method_41(self, value)\n\nValueError: negative\n```\n"
    )
    result = packed(issue, budget=700)
    start = BIG.splitlines().index("    def method_41(self, value):") + 1
    assert any(p == "app/pipeline.py" and s <= start <= e for p, s, e in result.slices)
