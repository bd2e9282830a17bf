"""Association-rule mining: baskets as sparse matrices, frequent itemsets, rules per segment.

`baskets.make_baskets` turns the canonical transaction table into a sparse basket x item matrix
(never a dense one: that is what runs out of memory on real data); `mining.mine` finds frequent
itemsets with the engine `rules.engine` names (`engines`), after `guard` has checked that they
will fit, and turns them into scored rules (`rules`), overall and per segment.
"""
