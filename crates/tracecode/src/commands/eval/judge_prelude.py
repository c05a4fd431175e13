import collections, heapq, bisect, math, itertools, functools, string
from typing import List, Optional, Dict, Tuple, Set, Deque
from collections import Counter, defaultdict, deque, OrderedDict
from heapq import heappush, heappop, heapify, heapreplace, heappushpop, nlargest, nsmallest
from bisect import bisect, bisect_left, bisect_right, insort, insort_left, insort_right
from math import inf, gcd, sqrt, isqrt, ceil, floor, comb, factorial, log2, log
from itertools import pairwise, accumulate, product, permutations, combinations, chain, groupby, zip_longest, count
from functools import cache, lru_cache, reduce, cmp_to_key
xrange = range

