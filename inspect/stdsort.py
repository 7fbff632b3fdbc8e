"""GNU libstdc++'s ``std::sort``, step for step, so that ties come out in the same order.

``std::sort`` is not stable: elements that compare equal end up in an order fixed by the
algorithm (introsort: median-of-three quicksort down to runs of 16, heapsort past a depth
of 2·log2(n), then one insertion sort). sysdig sorts its ``-S`` table this way; to print
equal counts in the same order, :func:`cxx_sort` performs the same comparisons and moves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["cxx_sort"]

T = TypeVar("T")
_THRESHOLD = 16


def cxx_sort(a: list[T], less: Callable[[T, T], bool]) -> None:
    """Sort ``a`` in place as ``std::sort(a.begin(), a.end(), less)`` does."""
    n = len(a)
    if n > 1:
        _introsort_loop(a, 0, n, 2 * (n.bit_length() - 1), less)
        _final_insertion_sort(a, 0, n, less)


def _introsort_loop(a: list[T], first: int, last: int, depth: int,
                    less: Callable[[T, T], bool]) -> None:
    while last - first > _THRESHOLD:
        if depth == 0:
            _heap_sort(a, first, last, less)
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, less)
        _introsort_loop(a, cut, last, depth, less)
        last = cut


def _partition_pivot(a: list[T], first: int, last: int, less: Callable[[T, T], bool]) -> int:
    mid = first + (last - first) // 2
    _median_to_first(a, first, first + 1, mid, last - 1, less)
    return _unguarded_partition(a, first + 1, last, first, less)


def _median_to_first(a: list[T], result: int, x: int, y: int, z: int,
                     less: Callable[[T, T], bool]) -> None:
    if less(a[x], a[y]):
        if less(a[y], a[z]):
            pick = y
        elif less(a[x], a[z]):
            pick = z
        else:
            pick = x
    elif less(a[x], a[z]):
        pick = x
    elif less(a[y], a[z]):
        pick = z
    else:
        pick = y
    a[result], a[pick] = a[pick], a[result]


def _unguarded_partition(a: list[T], first: int, last: int, pivot: int,
                         less: Callable[[T, T], bool]) -> int:
    p = a[pivot]  # the pivot stays in place at ``pivot`` (before ``first``) throughout
    while True:
        while less(a[first], p):
            first += 1
        last -= 1
        while less(p, a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _final_insertion_sort(a: list[T], first: int, last: int,
                          less: Callable[[T, T], bool]) -> None:
    if last - first > _THRESHOLD:
        _insertion_sort(a, first, first + _THRESHOLD, less)
        for i in range(first + _THRESHOLD, last):
            _linear_insert(a, i, less)
    else:
        _insertion_sort(a, first, last, less)


def _insertion_sort(a: list[T], first: int, last: int, less: Callable[[T, T], bool]) -> None:
    for i in range(first + 1, last):
        if less(a[i], a[first]):
            v = a[i]
            a[first + 1:i + 1] = a[first:i]
            a[first] = v
        else:
            _linear_insert(a, i, less)


def _linear_insert(a: list[T], i: int, less: Callable[[T, T], bool]) -> None:
    v = a[i]
    j = i - 1
    while less(v, a[j]):
        a[i] = a[j]
        i = j
        j -= 1
    a[i] = v


# -- heapsort (std::make_heap then std::sort_heap over [first, last)) --------------------------

def _heap_sort(a: list[T], first: int, last: int, less: Callable[[T, T], bool]) -> None:
    n = last - first
    if n >= 2:
        parent = (n - 2) // 2
        while True:
            _adjust_heap(a, first, parent, n, a[first + parent], less)
            if parent == 0:
                break
            parent -= 1
    while last - first > 1:
        last -= 1
        v = a[last]
        a[last] = a[first]
        _adjust_heap(a, first, 0, last - first, v, less)


def _adjust_heap(a: list[T], base: int, hole: int, n: int, value: T,
                 less: Callable[[T, T], bool]) -> None:
    top = hole
    child = hole
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if less(a[base + child], a[base + child - 1]):
            child -= 1
        a[base + hole] = a[base + child]
        hole = child
    if n % 2 == 0 and child == (n - 2) // 2:
        child = 2 * (child + 1)
        a[base + hole] = a[base + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and less(a[base + parent], value):
        a[base + hole] = a[base + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[base + hole] = value
