"""Signals that do not depend on a repository's words: where a traceback points (in every
format a reporter pastes, the deepest frame first), and the class a `Class.method` names
even when the method is the thing missing."""

from __future__ import annotations

from bot.context import build_repo_map, extract_signals, rank_files
from bot.context.rank import FRAME_DECAY, file_signals
from bot.context.signals import message_ngrams

REPO = {
    "pkg/__init__.py": "from .plot import Plot\n",
    "pkg/plot.py": (
        '"""Plot: compile layers, set up scales, draw."""\n\n'
        "from .scales import Continuous\n\n"
        "class Plot:\n"
        "    def plot(self, data):\n"
        "        scales = self.setup_scales(data)\n"
        "        return self.draw(data, scales)\n\n"
        "    def setup_scales(self, data):\n"
        "        return {name: Continuous().setup(col) for name, col in data.items()}\n\n"
        "    def draw(self, data, scales):\n"
        "        return [scales[k](v) for k, v in data.items()]\n"
    ),
    "pkg/scales.py": (
        "class Continuous:\n"
        "    def setup(self, values):\n"
        "        lo, hi = min(values), max(values)\n"
        "        span = hi - lo\n"
        "        return lambda x: (x - lo) / span\n"
    ),
    "pkg/writers.py": (
        "class Writer:\n"
        "    def __init__(self, delimiter=','):\n"
        "        self.delimiter = delimiter\n\n"
        "class Fixed(Writer):\n"
        "    pass\n"
    ),
    "pkg/table.py": (
        "from .writers import Writer, Fixed\n\n"
        "def write_table(table, format='fixed', **kwargs):\n"
        "    writer = Fixed(**kwargs) if format == 'fixed' else Writer(**kwargs)\n"
        "    return writer\n"
    ),
    "tests/test_plot.py": (
        "from pkg.plot import Plot\n\n"
        "def test_plot_scales_boolean_data():\n"
        "    Plot().plot({'color': [True, False]})\n"
    ),
}
# Every other module plots and sets up too: only a traceback says which ones failed.
SIMILAR = {
    f"pkg/{name}.py": (
        f"class {name.title()}:\n"
        f"    def plot(self, data):\n"
        f'        """Plot colors of data."""\n'
        f"        return [self.setup(x) for x in data]\n\n"
        f"    def setup(self, values):\n"
        f"        return values\n"
    )
    for name in ("bars", "lines", "points", "areas")
}

IPYTHON8 = """Plotting boolean colors crashes

```python-traceback
TypeError                                 Traceback (most recent call last)
File ~/code/pkg/pkg/plot.py:6, in Plot.plot(self, data)
      5 def plot(self, data):
----> 6     scales = self.setup_scales(data)

File ~/code/pkg/pkg/scales.py:4, in Continuous.setup(self, values)
----> 4     span = hi - lo

TypeError: numpy boolean subtract, the `-` operator, is not supported
```
"""

IPYTHON7 = """Plotting boolean colors crashes

```
TypeError                                 Traceback (most recent call last)
<ipython-input-3-46dd21e9c95a> in <module>
----> 1 Plot().plot({"color": [True, False]})

/opt/env/lib/python3.8/site-packages/pkg/plot.py in plot(self, data)
      5     def plot(self, data):
----> 6         scales = self.setup_scales(data)

/opt/env/lib/python3.8/site-packages/pkg/scales.py in setup(self, values)
      3         lo, hi = min(values), max(values)
----> 4         span = hi - lo

TypeError: numpy boolean subtract, the `-` operator, is not supported
```
"""


def ranked(issue: str, repo: dict[str, str] = REPO) -> list[str]:
    return [p for p, _ in rank_files(build_repo_map(repo), issue)]


def test_jupyter_traceback_frames_are_read_in_order() -> None:
    frames = extract_signals(IPYTHON8).frames
    assert [(f.path.rsplit("/", 1)[-1], f.line) for f in frames] == [
        ("plot.py", 6),
        ("scales.py", 4),
    ]
    assert frames[-1].func == "Continuous.setup"
    old = extract_signals(IPYTHON7).frames
    assert [f.path.rsplit("/", 1)[-1] for f in old] == ["plot.py", "scales.py"]
    assert [f.func for f in old] == ["plot", "setup"]
    assert [f.line for f in old] == [6, 4]  # from each frame's own `---->` line


def test_a_jupyter_traceback_points_at_files_like_a_plain_one() -> None:
    frames = [("plot.py", 6, "plot"), ("scales.py", 4, "setup")]
    formats = (
        'File "/opt/env/pkg/{0}", line {1}, in {2}',
        "File /opt/env/pkg/{0}:{1}, in {2}()",  # IPython 8
        "/opt/env/pkg/{0} in {2}()",  # IPython 7
    )
    repo_map = build_repo_map({**REPO, **SIMILAR})
    pointed = []
    for fmt in formats:
        lines = "\n".join(fmt.format(*f) for f in frames)
        frame = file_signals(repo_map, f"Plotting crashes\n\n```\n{lines}\n```\n")["frame"]
        pointed.append({repo_map.paths[i]: float(frame[i]) for i in frame.nonzero()[0]})
    assert pointed[0] == {"pkg/scales.py": 1.0, "pkg/plot.py": FRAME_DECAY}
    assert pointed[1] == pointed[2] == pointed[0]


def test_the_deepest_framed_file_scores_most_however_many_frames_the_others_have() -> None:
    issue = """Plotting boolean colors crashes

```
Traceback (most recent call last):
  File "/opt/env/lib/pkg/plot.py", line 6, in plot
  File "/opt/env/lib/pkg/plot.py", line 10, in setup_scales
  File "/opt/env/lib/pkg/plot.py", line 10, in <dictcomp>
  File "/opt/env/lib/pkg/scales.py", line 4, in setup
TypeError: numpy boolean subtract, the `-` operator, is not supported
```
"""
    repo_map = build_repo_map(REPO)
    frame = file_signals(repo_map, issue)["frame"]
    assert frame[repo_map.index_of["pkg/scales.py"]] == 1.0
    assert frame[repo_map.index_of["pkg/plot.py"]] == FRAME_DECAY  # one file shallower
    assert frame[repo_map.index_of["pkg/table.py"]] == 0.0


def test_prose_path_ending_in_py_is_not_a_frame() -> None:
    text = "The file pkg/scales.py in setup mode is fine; see pkg/plot.py in the docs."
    assert extract_signals(text).frames == []


def test_a_method_the_class_lacks_names_the_file_defining_the_class() -> None:
    issue = (
        "Please support a delimiter for fixed tables\n\n"
        "```\n"
        ">>> write_table(table, format='fixed', delimiter='|')\n"
        "TypeError: Fixed.__init__() got an unexpected keyword argument 'delimiter'\n"
        "```\n"
    )
    top = ranked(issue)
    assert top[0] == "pkg/writers.py"
    assert top.index("pkg/writers.py") < top.index("pkg/table.py")


VENDORED = {
    "netlib/__init__.py": "from .api import get\n",
    "netlib/api.py": "from .adapters import send\n\ndef get(url):\n    return send(url)\n",
    "netlib/adapters.py": (
        "from .packages.urllib3.exceptions import ProtocolError\n\n"
        "def send(url):\n"
        "    try:\n"
        "        return open_connection(url)\n"
        "    except ProtocolError as err:\n"
        "        raise ConnectionError(err)\n"
    ),
    "netlib/packages/__init__.py": "",
    "netlib/packages/urllib3/__init__.py": "",
    "netlib/packages/urllib3/exceptions.py": (
        "class HTTPError(Exception):\n    pass\n\n"
        "class DecodeError(HTTPError):\n    '''urllib3 failed to decode the response.'''\n\n"
        "class ProtocolError(HTTPError):\n    pass\n\n"
        "class TimeoutError(HTTPError):\n    '''urllib3 timeout exceptions.'''\n"
    ),
}


def test_vendored_code_ranks_below_the_projects_own() -> None:
    from bot.context.rank import is_vendored

    issue = (
        "urllib3 exceptions passing through the API\n\n"
        "I catch ConnectionError, but urllib3 DecodeError and TimeoutError exceptions "
        "still pass through `get`."
    )
    top = ranked(issue, VENDORED)
    assert top.index("netlib/adapters.py") < top.index("netlib/packages/urllib3/exceptions.py")
    assert is_vendored("astropy/extern/ply/lex.py")
    assert is_vendored("django/contrib/admin/static/admin/js/vendor/jquery/jquery.js")
    assert not is_vendored("packages/web/src/app.ts")  # a monorepo's own packages
    assert not is_vendored("sympy/external/importtools.py")


def test_another_librarys_frames_do_not_push_the_projects_frames_down() -> None:
    # The deepest frames are numpy's; numpy's `__init__.py` and `core.py` only share a
    # file name with files here, so plot.py stays the deepest frame of this project.
    issue = """Plotting crashes

```
Traceback (most recent call last):
  File "/opt/env/lib/python3.11/site-packages/pkg/plot.py", line 6, in plot
  File "/opt/env/lib/python3.11/site-packages/numpy/core.py", line 88, in subtract
  File "/opt/env/lib/python3.11/site-packages/numpy/__init__.py", line 12, in _dispatch
TypeError: numpy boolean subtract, the `-` operator, is not supported
```
"""
    repo_map = build_repo_map({**REPO, "pkg/core.py": "def subtract(a, b):\\n    return a - b\\n"})
    frame = file_signals(repo_map, issue)["frame"]
    assert frame[repo_map.index_of["pkg/plot.py"]] == 1.0
    assert frame[repo_map.index_of["pkg/core.py"]] == 0.0
    assert frame[repo_map.index_of["pkg/__init__.py"]] == 0.0


ASSERTION_REPO = {
    "pkg/assertion/__init__.py": "from .rewrite import rewrite_asserts\n",
    "pkg/assertion/rewrite.py": (
        '"""Assertion rewriting: rewrite assert statements of test modules."""\n\n'
        "def rewrite_asserts(tree):\n"
        "    return [node for node in tree]\n"
    ),
    "pkg/assertion/util.py": (
        '"""Explain a failing comparison of two sequences or strings."""\n\n'
        "def compare_sequences(left, right):\n"
        "    explanation = []\n"
        "    if len(left) < len(right):\n"
        "        explanation.append(\n"
        '            "Right contains more items, first extra item: {}".format(right[len(left)])\n'
        "        )\n"
        "    return explanation\n"
    ),
}

BYTES_ISSUE = """Confusing assertion rewriting message with byte strings

```
    def test_b():
>       assert b"" == b"42"
E       AssertionError: assert b'' == b'42'
E         Right contains more items, first extra item: 52
```
"""


def test_a_message_is_matched_between_its_commas_and_numbers() -> None:
    grams = message_ngrams("Right contains more items, first extra item: 52")
    assert grams == ["right contains more", "contains more items", "first extra item"]
    # The file printing the message wins over the one whose words the issue repeats.
    assert ranked(BYTES_ISSUE, ASSERTION_REPO)[0] == "pkg/assertion/util.py"
