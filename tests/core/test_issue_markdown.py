"""The issue parser: the structure a reader of the rendered issue sees."""

from __future__ import annotations

from bot.core.issue_markdown import parse_issue

BODY = """\
## Tasks
- [ ] Build the parser
  - [ ] tokenizer
  - [X] grammar
    - detail
- [x] Wire it up

**Steps to reproduce**
1. Run it

| OS | Version |
|----|---------|
| Linux | 6.1 |

<!-- Please fill in:
- [ ] template item
-->
> - [ ] quoted from another issue

```markdown
- [ ] in a fence
```

    - [ ] indented code

Allow lists to nest, such as:

- [ ] Project 1
"""


def test_lists_keep_their_nesting_and_checked_state() -> None:
    doc = parse_issue(BODY)
    visible = [(i.title, i.checked, i.parent.title if i.parent else None) for i in doc.items]
    assert visible == [
        ("Build the parser", False, None),
        ("tokenizer", False, "Build the parser"),
        ("grammar", True, "Build the parser"),
        ("detail", None, "grammar"),
        ("Wire it up", True, None),
        ("Run it", None, None),
        ("quoted from another issue", False, None),
        ("Project 1", False, None),
    ]
    assert [i.in_quote for i in doc.items].count(True) == 1
    assert doc.items[-1].lead_in == "Allow lists to nest, such as:"


def test_headings_and_pseudo_headings_open_sections() -> None:
    doc = parse_issue(BODY)
    assert [(h.level, h.text) for h in doc.headings] == [
        (2, "Tasks"),
        (7, "Steps to reproduce"),
        (8, "Allow lists to nest, such as"),  # a short `Text:` line
    ]
    run_it = doc.items[5]
    assert [h.text for h in run_it.headings] == ["Tasks", "Steps to reproduce"]


def test_code_comments_and_tables_are_blocks_not_items() -> None:
    doc = parse_issue(BODY)
    kinds = [b.kind for b in doc.blocks]
    assert kinds.count("code") == 2 and "comment" in kinds and "quote" in kinds
    table = next(b for b in doc.blocks if b.kind == "table")
    assert table.text == "OS | Version\nLinux | 6.1"
    comment = next(b for b in doc.blocks if b.kind == "comment")
    assert "- [ ] template item" in comment.text
    assert all("fence" not in i.title and "indented" not in i.title for i in doc.items)


def test_an_unterminated_comment_hides_the_rest_as_on_github() -> None:
    doc = parse_issue("- [ ] Add caching\n\n<!--\n- [ ] never shown on GitHub\n")
    assert [i.title for i in doc.items] == ["Add caching"]


def test_item_body_is_dedented_with_its_marker_and_checkbox_removed() -> None:
    doc = parse_issue(BODY)
    assert doc.body_of(doc.items[0]) == (
        "Build the parser\n- [ ] tokenizer\n- [X] grammar\n  - detail"
    )
    lazy = parse_issue("1. [ ] Add the cache\nwith a TTL of one hour\n2. [ ] Add metrics\n")
    assert lazy.body_of(lazy.items[0]) == "Add the cache\nwith a TTL of one hour"


def test_setext_heading_and_a_list_inside_an_ordered_item() -> None:
    doc = parse_issue("TODO\n----\n\n1. - [x] complete task\n1. - [ ] incomplete task.\n")
    assert [(h.level, h.text) for h in doc.headings] == [(2, "TODO")]
    tasks = [i for i in doc.items if i.checked is not None]
    assert [(t.title, t.checked, t.parent is not None) for t in tasks] == [
        ("complete task", True, True),
        ("incomplete task.", False, True),
    ]
