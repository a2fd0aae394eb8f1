"""Text repeated within one page, found by word n-gram containment.

Pages print their body twice (an AMP copy, a flattened "print" block, a
teaser before the full text) and repeat headings and the title. String
equality misses these: the flattened copy equals no single paragraph. So a
block is judged by how much of its run of word 5-grams appears elsewhere.

"Appears" means as one *contiguous* run: a repeat is the same text again,
perhaps cut differently at its ends, whereas two legal clauses that differ
by a country or a price in the middle are two texts and both stay.

Two passes, both pure:

1. *Containers*: a long block made of two or more other, disjoint blocks
   that together cover most of it is a flattened copy. It goes, whatever the
   order, so the copy with paragraph structure stays.
2. *Sequential*: in page order, a block whose n-grams all run through text
   already kept (bar a cut last word) is a repeat. Consecutive repeats form
   a run; the run goes if it is a real second copy (40+ words, or one block
   of 12+ words). Shorter isolated repeats are the structure of the page (a
   meal plan's "Meal 1", a schedule's "Room 217") and stay. A block that
   *contains* an earlier kept block (a teaser) replaces it, so the fuller
   copy stays and nothing is lost.
3. *Code*: a listing sharing a quarter of its n-grams with earlier text is
   the same listing re-printed with edits; n-gram order is not required.

Example::

    >>> first = " ".join(f"a{i}" for i in range(20))
    >>> second = " ".join(f"b{i}" for i in range(20))
    >>> find_repeats([first, second, first + " " + second])
    {2: 'repeat'}
    >>> find_repeats([first + " " + second, first, second])
    {0: 'repeat'}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ingest.clean.lexicon import words

N = 5
RUN = 0.9  # share of a teaser's n-grams a later block must hold, in one run, to replace it
MEMBER = 0.8  # share of a part's n-grams found in a container to count as inside it
COVER = 0.8  # share of a container covered by its parts
CODE_REPEAT = 0.25  # share of a listing's n-grams seen before that makes it a re-print
MIN_CONTAINER_WORDS = 30
SWALLOW_MIN_SHINGLES = 4  # a block of 8+ words inside a later, longer one is its teaser
END_SLACK = 1  # n-grams a repeat may miss at its end (a teaser's cut last word)
RUN_MIN_WORDS = 40  # a run of repeated blocks this long is a second copy ...
BLOCK_MIN_WORDS = 12  # ... as is one repeated block this long; shorter repeats are structure

# An n-gram is kept as the hash of its word tuple: sets of ints cost far less
# than sets of 5-tuples, which rehash five strings on every lookup. Two
# different n-grams of one page sharing a 64-bit hash is not a practical risk.
Shingle = int


def shingle_list(tokens: Sequence[str], n: int = N) -> list[Shingle]:
    """Word n-grams in order; a shorter token list is its own single n-gram.

    >>> shingle_list(["a", "b", "c"], 2) == [hash(("a", "b")), hash(("b", "c"))]
    True
    """
    if len(tokens) < n:
        return [hash(tuple(tokens))] if tokens else []
    return _windows(tokens, n)


def _windows(tokens: Sequence[str], n: int = N) -> list[Shingle]:
    """Every full n-gram (none for a shorter list), hashed: ``zip`` over shifted slices
    builds the tuples in C, several times faster than slicing one tuple per position."""
    return list(map(hash, zip(*(tokens[k:] for k in range(n)), strict=False)))


def longest_run(seq: Sequence[Shingle], present: Iterable[Shingle] | set[Shingle]) -> float:
    """Longest stretch of consecutive n-grams found in ``present``, as a share of ``seq``.

    >>> longest_run([("a",), ("b",), ("c",), ("d",)], {("a",), ("c",), ("d",)})
    0.5
    """
    if not seq:
        return 0.0
    found = present if isinstance(present, set) else set(present)
    best = current = 0
    for sh in seq:
        current = current + 1 if sh in found else 0
        best = max(best, current)
    return best / len(seq)


def _prefix_run(seq: Sequence[Shingle], present: set[Shingle]) -> int:
    """How many n-grams, from the first on, are all present."""
    for k, sh in enumerate(seq):
        if sh not in present:
            return k
    return len(seq)


def find_repeats(
    texts: Sequence[str], kinds: Sequence[str] | None = None, title: str | None = None
) -> dict[int, str]:
    """Indices of blocks to drop, mapped to their rule (``repeat`` or ``title``).

    ``kinds`` (same length as ``texts``) lets a short repeated heading go while
    a short repeated list item or table cell stays.
    """
    tokens = [words(t) for t in texts]
    seqs = [shingle_list(t) for t in tokens]
    sets = [set(s) for s in seqs]
    shared = shared_shingles(sets)
    drops = {i: "title" for i in _title_lines(tokens, title)}
    for i in find_containers(tokens, seqs, sets, shared, drops):
        drops[i] = "repeat"
    for i in _sequential(tokens, seqs, list(kinds or ["p"] * len(texts)), shared, drops):
        drops[i] = "repeat"
    return dict(sorted(drops.items()))


def shared_shingles(sets: Sequence[set[Shingle]]) -> set[Shingle]:
    """N-grams found in two or more blocks: the only ones that can tie a block to
    another, so the only ones worth indexing (most of a page's are unique).

    >>> sorted(shared_shingles([{1, 2}, {2, 3}, {3, 4}]))
    [2, 3]
    """
    seen: set[Shingle] = set()
    shared: set[Shingle] = set()
    for s in sets:
        shared |= s & seen
        seen |= s
    return shared


def _title_lines(tokens: Sequence[list[str]], title: str | None) -> list[int]:
    """Blocks that are the page title again (or the title without a site suffix)."""
    wanted = words(title or "")
    if not wanted:
        return []
    return [i for i, toks in enumerate(tokens)
            if toks and (toks == wanted or (len(toks) >= 4 and _is_prefix(toks, wanted)))]


def _is_prefix(short: list[str], long: list[str]) -> bool:
    """``short`` is ``long`` minus a brief tail (a site name after a separator)."""
    return long[: len(short)] == short and len(long) - len(short) <= 4


def find_containers(
    tokens: Sequence[list[str]],
    seqs: Sequence[list[Shingle]],
    sets: Sequence[set[Shingle]],
    shared: set[Shingle],
    skip: dict[int, str],
) -> list[int]:
    # Parts cover a container only with n-grams found in two blocks, so a block
    # with too few of those is no container, and the index needs no others.
    candidates = [i for i, whole in enumerate(sets)
                  if i not in skip and len(tokens[i]) >= MIN_CONTAINER_WORDS
                  and len(whole & shared) >= COVER * len(whole)]
    if not candidates:
        return []
    index = _inverted([s & shared for s in sets])
    found = []
    for i in candidates:
        whole = sets[i]
        covered = _disjoint_cover(i, whole & shared, seqs, sets, index)
        if covered is not None and len(whole & covered) >= COVER * len(whole):
            found.append(i)
    return found


def _inverted(sets: Sequence[set[Shingle]]) -> dict[Shingle, list[int]]:
    index: dict[Shingle, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            index[sh].append(i)
    return index


def _disjoint_cover(
    i: int,
    linked: set[Shingle],
    seqs: Sequence[list[Shingle]],
    sets: Sequence[set[Shingle]],
    index: dict[Shingle, list[int]],
) -> set[Shingle] | None:
    """Union of two or more mutually disjoint shorter blocks that lie inside block ``i``
    (``linked``: its n-grams found in other blocks too)."""
    whole = sets[i]
    others = {j for sh in linked for j in index[sh]}
    others.discard(i)
    covered: set[Shingle] = set()
    members = 0
    for j in sorted(others):
        inside = len(sets[j]) < len(whole) and longest_run(seqs[j], whole) >= MEMBER
        if inside and len(sets[j] & covered) < 0.5 * len(sets[j]):
            covered |= sets[j]
            members += 1
    return covered if members >= 2 else None


@dataclass
class KeptBlocks:
    """Blocks kept so far, which of them hold each n-gram, and the kept text
    as one token stream (for n-grams and short lines across block boundaries).

    ``owners`` tracks only the ``shared`` n-grams (found in two or more blocks of
    the page, see :func:`shared_shingles`): no other can tie a later block to a kept one.
    """

    shared: set[Shingle]
    owners: dict[Shingle, set[int]] = field(default_factory=lambda: defaultdict(set))
    blocks: dict[int, list[Shingle]] = field(default_factory=dict)
    kinds: dict[int, str] = field(default_factory=dict)
    bridges: set[Shingle] = field(default_factory=set)
    stream: list[str] = field(default_factory=lambda: [" "])
    tail: list[str] = field(default_factory=list)

    def add(self, i: int, seq: list[Shingle], toks: list[str], kind: str) -> None:
        """Keep block ``i``. ``bridges`` holds every n-gram of the kept stream, removed
        blocks' included; only the n-grams ending in this block are new, and those
        start at most ``N - 1`` tokens before it (``tail``), so nothing is rebuilt."""
        self.blocks[i] = seq
        self.kinds[i] = kind
        for sh in self.shared.intersection(seq):
            self.owners[sh].add(i)
        self.bridges.update(_windows(self.tail + toks[:N - 1]))
        if len(toks) >= N:
            self.bridges.update(seq)
        self.tail = (self.tail + toks[-(N - 1):])[-(N - 1):]
        self.stream.append(" ".join(toks) + " ")

    def remove(self, i: int) -> None:
        for sh in self.shared.intersection(self.blocks.pop(i)):
            self.owners[sh].discard(i)

    def contains(self, toks: list[str], seq: list[Shingle]) -> bool:
        """All of the block's n-grams run through kept text: the same words again."""
        if len(toks) < N:
            return f" {' '.join(toks)} " in "".join(self.stream)
        # A kept block's n-grams went into ``bridges`` when it was added (and stay
        # there after it is removed), so ``owners`` need not be asked as well.
        return _prefix_run(seq, self.bridges) >= len(seq) - END_SLACK

    def sharing(self, shingles: set[Shingle]) -> set[int]:
        """Kept blocks holding at least one of ``shingles``."""
        owners = self.owners
        return {j for sh in self.shared.intersection(shingles) if sh in owners
                for j in owners[sh]}


def _sequential(
    tokens: Sequence[list[str]],
    seqs: Sequence[list[Shingle]],
    kinds: Sequence[str],
    shared: set[Shingle],
    skip: dict[int, str],
) -> list[int]:
    """Repeated runs go, in page order; short isolated repeats (a schedule's
    "Meal 1", a table's "Yes") are structure, not a second copy, and stay."""
    kept = KeptBlocks(shared)
    dropped: list[int] = []
    run: list[int] = []
    for i, seq in enumerate(seqs):
        if i in skip or not seq:
            continue
        if _is_repeat(tokens[i], seq, kinds[i], kept):
            run.append(i)
            continue
        dropped.extend(_close_run(run, tokens, seqs, kinds, kept))
        run = []
        for j in _swallowed(seq, tokens[i], kept):
            kept.remove(j)
            dropped.append(j)
        kept.add(i, seq, tokens[i], kinds[i])
    dropped.extend(_close_run(run, tokens, seqs, kinds, kept))
    return dropped


def _is_repeat(toks: list[str], seq: list[Shingle], kind: str, kept: KeptBlocks) -> bool:
    if kind == "code":
        present = {sh for sh in seq if kept.owners.get(sh)}
        return len(present) >= CODE_REPEAT * len(set(seq))
    return kept.contains(toks, seq)


def _close_run(run: list[int], tokens: Sequence[list[str]], seqs: Sequence[list[Shingle]],
               kinds: Sequence[str], kept: KeptBlocks) -> list[int]:
    """Drop a run of repeated blocks if it is a real second copy, else keep it."""
    size = sum(len(tokens[i]) for i in run)
    if run and (size >= RUN_MIN_WORDS or max(len(tokens[i]) for i in run) >= BLOCK_MIN_WORDS):
        return run
    for i in run:
        kept.add(i, seqs[i], tokens[i], kinds[i])
    return []


def _swallowed(seq: list[Shingle], toks: list[str], kept: KeptBlocks) -> list[int]:
    """Earlier kept blocks (not headings) that this longer block contains whole: a teaser
    before its paragraph, a summary before the full text."""
    if len(seq) <= SWALLOW_MIN_SHINGLES:
        return []  # no kept block can be both long enough and shorter than this one
    mine = set(seq)
    return [
        j for j in sorted(kept.sharing(mine))
        if SWALLOW_MIN_SHINGLES <= len(kept.blocks[j]) < len(seq) and kept.kinds[j] != "head"
        and longest_run(kept.blocks[j], mine) >= RUN
    ]
