"""The benchmark data set's reseller tree (panel/seed_large.py) is several levels deep, has no loops, and every
owner is a Reseller that exists."""
from panel.seed_large import SCALES, reseller_of


def depth(i: int, count: int) -> int:
    seen = 0
    while (i := reseller_of(i, count)) is not None:
        seen += 1
        assert seen < 10, "a loop in the tree"
    return seen


def test_the_huge_tree_is_four_levels_deep_without_loops():
    count = SCALES["huge"]["customers"]
    for i in list(range(1, 30_001)) + list(range(count - 20_000, count + 1)):
        owner = reseller_of(i, count)
        assert owner is None or (owner % 100 == 0 and 1 <= owner <= count and owner != i)
    assert depth(5, count) == 3  # end customer → hundred → thousand → ten thousand
    assert depth(100, count) == 2 and depth(1_000, count) == 1 and depth(10_000, count) == 0
    assert reseller_of(7, count) is None  # four end customers in five have no reseller


def test_a_small_set_keeps_a_tree_within_its_customers():
    for count in (40, 250, 2_000):
        for i in range(1, count + 1):
            owner = reseller_of(i, count)
            assert owner is None or owner <= count
