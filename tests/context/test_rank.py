"""Ranking: what the issue names (frames, paths, modules, symbols, messages) decides."""

from __future__ import annotations

from bot.context import build_repo_map, extract_signals, rank_files

FILLER = "\n".join(f"def helper_{i}(x):\n    return x + {i}\n" for i in range(30))

REPO = {
    "pkg/__init__.py": "from .core import Engine\n",
    "pkg/core.py": (
        '"""Engine that runs jobs."""\n\n'
        "class Engine:\n"
        "    def start(self, jobs):\n"
        "        for job in jobs:\n"
        "            self.run_job(job)\n\n"
        "    def run_job(self, job):\n"
        "        return job()\n"
    ),
    "pkg/parsing.py": (
        "def parse_config(text):\n"
        "    if not text:\n"
        '        raise ValueError("config section is missing a name")\n'
        "    return dict(line.split('=') for line in text.splitlines())\n"
    ),
    "pkg/cli.py": (
        "import argparse\n\n"
        "def build_parser():\n"
        "    p = argparse.ArgumentParser()\n"
        '    p.add_argument("--dry-run", action="store_true")\n'
        "    return p\n"
    ),
    "pkg/util.py": FILLER,
    "tests/test_core.py": (
        "from pkg.core import Engine\n\n"
        "def test_engine_runs_jobs_engine_start():\n"
        "    Engine().start([lambda: 1])  # Engine start run_job jobs\n"
    ),
    "docs/engine.rst": "Engine\n======\n\nThe Engine runs jobs; call start() with jobs.\n",
}


def top(query: str, title: str = "") -> str:
    return rank_files(build_repo_map(REPO), query, title=title)[0][0]


def test_traceback_frame_puts_that_file_first() -> None:
    issue = """Crash when a config is empty

    Traceback (most recent call last):
      File "/home/me/app/main.py", line 3, in <module>
      File "/usr/lib/python3.11/site-packages/pkg/parsing.py", line 3, in parse_config
    ValueError: something
    """
    assert top(issue) == "pkg/parsing.py"


def test_mentioned_path_and_module_win() -> None:
    # No other word of the query occurs in the code: in a seven-file repository one shared
    # word ("line" meets `splitlines` once stemmed) weighs as much as a whole text does, and
    # the fitted weights (path 2.0) let that beat a named path. Real repositories dilute it.
    assert top("Look at pkg/cli.py please, it is odd") == "pkg/cli.py"
    assert top("Importing `pkg.parsing` is slow") == "pkg/parsing.py"


def test_defined_identifier_beats_tests_and_docs_that_use_it() -> None:
    ranked = rank_files(build_repo_map(REPO), "Engine.start runs jobs twice", title="")
    paths = [p for p, _ in ranked]
    assert paths[0] == "pkg/core.py"
    assert paths.index("tests/test_core.py") > 0
    assert paths.index("docs/engine.rst") > 0


def test_error_message_finds_the_file_that_raises_it() -> None:
    issue = "Loading fails\n\nValueError: config section is missing a name (got '')"
    assert top(issue) == "pkg/parsing.py"


def test_cli_flag_finds_where_it_is_defined() -> None:
    assert top("The --dry-run flag still writes files") == "pkg/cli.py"


def test_scores_are_sorted_and_cover_every_file() -> None:
    ranked = rank_files(build_repo_map(REPO), "engine jobs")
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)
    assert {p for p, _ in ranked} == set(REPO)


def test_empty_repository_ranks_nothing() -> None:
    assert rank_files(build_repo_map({}), "anything") == []


def test_signals_read_frames_paths_modules_flags_and_messages() -> None:
    text = (
        "Running `tool --fast-mode` fails, see src/pkg/core.py and pkg.util.helper_1\n"
        "```\n"
        'File "C:\\src\\pkg\\core.py", line 12, in run_job\n'
        "KeyError: 'job name missing from table'\n"
        "```\n"
        "numpy: 1.19.0\n"
    )
    sig = extract_signals(text)
    assert sig.frames[0].line == 12 and sig.frames[0].func == "run_job"
    assert sig.frames[0].path.endswith("pkg/core.py")
    assert "src/pkg/core.py" in sig.paths
    assert "pkg.util.helper_1" in sig.dotted
    assert "--fast-mode" in sig.literals
    assert any("job name missing" in m for m in sig.messages)
    assert sig.identifiers["run_job"] == 1.0


def test_light_stemming_meets_prose_and_code() -> None:
    from bot.context.textutil import stem

    assert stem("fixtures") == stem("fixture")
    assert stem("raised") == stem("raises") == stem("raising") == stem("raise")
    assert stem("mapped") == "map" and stem("class") == "class" and stem("news") == "news"


def test_compound_words_split_into_words_the_repository_uses() -> None:
    from bot.context.textutil import CompoundSplitter, code_tokens

    splitter = CompoundSplitter.from_texts(["show_help = fixtures = 1", "show_all(fixtures)"])
    tokens = code_tokens("def showfixtures(): pass", splitter)
    assert "show" in tokens and "fixtur" in tokens
    assert code_tokens("showfixtures") == ["showfixtur"]  # without a vocabulary: whole
    assert splitter.split("qwertyuiop") == ()


def test_a_compound_name_in_code_is_found_from_its_words_in_prose() -> None:
    repo = {
        "lib/python.py": "def showfixtures(config):\n    return config\n" + FILLER,
        "lib/other.py": "def show_help():\n    pass\n\ndef load_fixtures():\n    pass\n",
        "lib/more.py": "def show_more(fixtures):\n    pass\n",
        "lib/plain.py": FILLER + "\ndef unrelated():\n    pass\n",
    }
    repo_map = build_repo_map(repo)
    assert {"show", "fixtur"} <= set(repo_map.tokens("showfixtures"))
    ranked = [p for p, _ in rank_files(repo_map, "Show fixtures output is missing the scope")]
    assert ranked.index("lib/python.py") < ranked.index("lib/plain.py")
