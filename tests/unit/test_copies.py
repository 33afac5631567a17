"""The services' copies of the monolith's code differ from it exactly as extracted/COPIES.md lists, each with a why.

The list is the lesson "what changed when the context left": a difference it does not list
fails here, and so does one it lists that is gone, so it can neither lag nor rot. To refresh it
after changing a copy: `.venv/bin/python -m tests.copies --print` (see tests/copies/__main__.py).
"""

import pytest

from tests import copies

REFRESH = (
    "If the change is meant, refresh the list: .venv/bin/python -m tests.copies --print > /tmp/COPIES.md && "
    "mv /tmp/COPIES.md extracted/COPIES.md, then say why for each TODO."
)


@pytest.fixture(scope="module")
def result():
    return copies.check(copies.parse(copies.LIST.read_text()))


def test_the_copies_are_found():
    # A pair whose folders moved would compare nothing, and pass: each must still hold copies.
    empty = [
        pair.name for pair in copies.PAIRS if not copies.copied_files(pair) and not pair.monolith.startswith("tests")
    ]
    assert not empty, f"No file is on both sides of {empty}: fix PAIRS in tests/copies/__init__.py."


def test_every_copy_differs_from_its_original_only_as_listed(result):
    unlisted = [line for line in result.problems if "not in extracted/COPIES.md" in line]
    assert not unlisted, "\n\n".join([*unlisted, REFRESH])


def test_every_listed_difference_still_exists(result):
    gone = [line for line in result.problems if "the listed difference" in line]
    assert not gone, "\n\n".join([*gone, REFRESH])


def test_every_listed_difference_says_why(result):
    assert not result.unexplained, result.unexplained


# The comparison itself, on a small tree of its own.

PAIR = copies.Pair(
    "shop", "monolith/shop", "extracted/shop/shop_service/shop", (("monolith.shop", "shop_service.shop"),)
)
MONOLITH = '''"""The monolith's shop."""
from monolith.shop.models import Product

PAGE_SIZE = 20
'''
SERVICE = '''"""The service's shop: a copy."""
from shop_service.shop.models import Product

PAGE_SIZE = 100
'''
LISTED = """# The list

## shop: `monolith/shop` → `extracted/shop/shop_service/shop`

### `views.py`

The service pages for machines, which read more at once.

```diff
-PAGE_SIZE = 20
+PAGE_SIZE = 100
```
"""


@pytest.fixture
def tree(tmp_path):
    for folder, text in ((PAIR.monolith, MONOLITH), (PAIR.service, SERVICE)):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "views.py").write_text(text)
    (tmp_path / PAIR.monolith / "urls.py").write_text("urlpatterns = []\n")  # on one side only: not a copy
    return tmp_path


def check(tree, listed):
    return copies.check(copies.parse(listed, pairs=[PAIR]), pairs=[PAIR], root=tree)


def test_rewritten_imports_and_docstrings_are_no_difference_and_a_listed_one_passes(tree):
    result = check(tree, LISTED)

    assert result.problems == []
    assert copies.render(result.kept, copies.preamble(LISTED), pairs=[PAIR]) == LISTED


def test_an_unlisted_difference_fails(tree):
    result = check(tree, LISTED.split("### ")[0])

    assert result.unlisted == {("shop", "views.py"): [("-PAGE_SIZE = 20", "+PAGE_SIZE = 100")]}
    # The list printed again has the difference, waiting for its why.
    assert f"### `views.py`\n\n{copies.TODO}\n\n```diff\n-PAGE_SIZE = 20" in copies.render(
        result.kept, "# The list", pairs=[PAIR]
    )


def test_a_listed_difference_that_is_gone_fails(tree):
    (tree / PAIR.service / "views.py").write_text(SERVICE.replace("100", "20"))

    result = check(tree, LISTED)

    assert [(pair, path, missing) for pair, path, _, missing in result.gone] == [
        ("shop", "views.py", [("-PAGE_SIZE = 20", "+PAGE_SIZE = 100")])
    ]


def test_a_file_on_one_side_only_is_no_copy_and_a_file_listed_as_no_copy_must_be_on_both(tree):
    listed = LISTED + "\n### `urls.py`: not a copy\n\nThe service has no pages.\n"

    result = check(tree, listed)

    assert [(pair, path) for pair, path, _, _ in result.gone] == [("shop", "urls.py")]


def test_a_difference_without_a_why_fails(tree):
    result = check(tree, LISTED.replace("The service pages for machines, which read more at once.", copies.TODO))

    assert result.unexplained == [("shop", "views.py")]
