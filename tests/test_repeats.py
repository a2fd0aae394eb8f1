"""Tests for ingest.clean.repeats: text repeated within one page."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean.lexicon import words
from ingest.clean.repeats import (
    END_SLACK,
    MIN_CONTAINER_WORDS,
    KeptBlocks,
    N,
    Shingle,
    find_containers,
    find_repeats,
    longest_run,
    shared_shingles,
    shingle_list,
)

BODY_FR = [
    "Le premier jour du mandat, Elon Musk était présent à la Maison Blanche lorsqu'il a appris "
    "que son adversaire tiendrait une conférence de presse avec le président.",
    "Musk allume la télévision et voit le patron d'OpenAI, rayonnant aux côtés du président, "
    "promouvoir un investissement de 500 milliards de dollars.",
    "Point commun depuis la première rencontre",
    "Selon des sources du journal, bien que Musk ait accompagné le président pendant des mois "
    "de campagne, il a été surpris par cette annonce.",
]
BODY_EN = [
    "The lawsuit, filed in federal court in San Francisco, accuses the company of abandoning "
    "its founding mission in favour of profit and of misleading its early donors.",
    "Lawyers for the company called the claims baseless and said they would ask the judge to "
    "dismiss the case before it reaches a jury next spring.",
    "What happens next",
    "A hearing is scheduled for March, when both sides will present arguments on the motion "
    "to dismiss and on the request for a preliminary injunction.",
]


def flat(lines: list[str]) -> str:
    return " ".join(lines)


def test_flattened_copy_after_the_body_goes() -> None:
    assert find_repeats([*BODY_FR, "Avertissement : contenu de tiers.", flat(BODY_FR)]) == {
        5: "repeat"}


def test_flattened_copy_before_the_body_goes_structure_kept() -> None:
    assert find_repeats([flat(BODY_EN), *BODY_EN]) == {0: "repeat"}


def test_second_structured_copy_goes_including_its_heading() -> None:
    texts = BODY_EN + BODY_EN
    assert find_repeats(texts, ["p", "p", "head", "p"] * 2) == {
        4: "repeat", 5: "repeat", 6: "repeat", 7: "repeat"}


def test_copy_cut_at_other_boundaries_is_found() -> None:
    # The second copy re-splits the text: each block straddles two originals.
    words = flat(BODY_EN).split()
    half = len(words) // 2
    recut = [" ".join(words[:half]), " ".join(words[half:])]
    assert set(find_repeats(BODY_EN + recut)) == {4, 5}


def test_truncated_teaser_is_a_repeat() -> None:
    teaser = BODY_EN[0][:120].rsplit(" ", 1)[0] + "…"
    assert find_repeats([*BODY_EN, teaser]) == {4: "repeat"}
    # Before the body, the fuller paragraph that follows replaces it.
    assert find_repeats([teaser, *BODY_EN]) == {0: "repeat"}


def test_variants_differing_in_the_middle_both_stay() -> None:
    base = ("Receive 20% off your purchase of three to five qualifying products to create a "
            "custom set, valid from January 16 in the {} until stocks last, excluding taxes.")
    texts = [base.format(c) for c in ("United States", "United Kingdom", "European Union")]
    assert find_repeats(texts) == {}


def test_variants_differing_at_the_start_both_stay() -> None:
    base = ("The {} Annual Summit is the must-attend event for senior leaders looking to "
            "strengthen resilience, reduce risk and align security with the business.")
    assert find_repeats([base.format("2nd"), base.format("7th")]) == {}


def test_short_structural_repeats_stay() -> None:
    texts = ["Meal 1", "Eat every 2–3 hours", "Oatmeal with berries and nuts",
             "Meal 2", "Eat every 2–3 hours", "Chicken salad with beans and feta"]
    assert find_repeats(texts) == {}


def test_long_repeated_run_of_short_lines_goes() -> None:
    menu = ["Home", "Latest News", "World", "Politics", "Business", "Science", "Sport",
            "Culture", "Opinion", "Weather", "Podcasts", "Video", "Photos", "Education",
            "Health", "Travel", "Cities", "Lifestyle", "Technology", "Markets", "Books",
            "Music", "Film", "Television", "Games", "Food", "Style", "Cars", "Jobs",
            "Property", "Obituaries", "Puzzles", "Crosswords", "Newsletters", "Events",
            "Archive", "About Us", "Contact", "Careers", "Advertise"]
    texts = [*menu, BODY_EN[0], *menu, BODY_EN[1]]
    dropped = find_repeats(texts)
    assert set(dropped) == set(range(len(menu) + 1, 2 * len(menu) + 1))


def test_title_line_in_body_goes() -> None:
    title = "Musk accuses OpenAI of betraying its mission"
    assert find_repeats([title, *BODY_EN], title=title) == {0: "title"}
    assert find_repeats([title, *BODY_EN], title=title + " | The Paper") == {0: "title"}


def test_title_words_inside_a_paragraph_do_not_count() -> None:
    title = "What happens next"
    assert find_repeats(BODY_EN, title="Musk and OpenAI in court") == {}
    assert find_repeats([*BODY_EN[:2], BODY_EN[3]], title=title) == {}


def test_distinct_text_has_no_repeats() -> None:
    assert find_repeats(BODY_FR + BODY_EN) == {}


def test_repeated_code_listing_goes() -> None:
    code = "def f(x):\n    return x + 1\n\nprint(f(41))\n# prints the answer to everything"
    assert find_repeats([BODY_EN[0], code, BODY_EN[1], code],
                        ["p", "code", "p", "code"]) == {3: "repeat"}


def test_helpers() -> None:
    assert shingle_list(["a", "b"]) == [hash(("a", "b"))]
    assert shingle_list([]) == []
    assert longest_run([], set()) == 0.0


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcde"), min_size=1, max_size=8), max_size=10),
       st.data())
def test_kept_bridges_hold_every_ngram_of_the_kept_stream(
    blocks: list[list[str]], data: st.DataObject
) -> None:
    """Built incrementally from the last N-1 tokens only, ``bridges`` is still every
    n-gram of everything kept so far, removed blocks included."""
    kept = KeptBlocks(shared=set())  # owners unused here: only bridges are checked
    stream: list[str] = []
    for i, toks in enumerate(blocks):
        kept.add(i, shingle_list(toks), toks, "p")
        stream += toks
        if data.draw(st.booleans()):
            kept.remove(i)
        assert kept.bridges == (set(shingle_list(stream)) if len(stream) >= N else set())
        assert all(kept.contains(toks, shingle_list(toks)) for toks in blocks[: i + 1])


def test_shingles_are_the_full_ngrams_of_a_long_enough_list() -> None:
    assert shingle_list(["a", "b", "c"], 2) == [hash(("a", "b")), hash(("b", "c"))]
    assert shingle_list(["a"], 2) == [hash(("a",))]
    assert shingle_list(list("abcdef")) == [hash(tuple("abcde")), hash(tuple("bcdef"))]


class _FirstKept(KeptBlocks):
    """``KeptBlocks`` as first written: re-shingles the last N-1 blocks on every add and
    asks ``owners`` as well as ``bridges``. The reference for the faster one."""

    def add(self, i: int, seq: list[Shingle], toks: list[str], kind: str) -> None:
        self.blocks[i] = seq
        self.kinds[i] = kind
        for sh in seq:
            self.owners[sh].add(i)
        joined = "".join(self.stream[-(N - 1):]).split() + toks
        if len(joined) >= N:
            self.bridges.update(shingle_list(joined))
        self.stream.append(" ".join(toks) + " ")

    def contains(self, toks: list[str], seq: list[Shingle]) -> bool:
        if len(toks) < N:
            return f" {' '.join(toks)} " in "".join(self.stream)
        present = {sh for sh in seq if self.owners.get(sh) or sh in self.bridges}
        prefix_run = next((k for k, sh in enumerate(seq) if sh not in present), len(seq))
        return prefix_run >= len(seq) - END_SLACK


VOCAB = ["un", "deux", "trois", "quatre", "cinq", "six"]
block = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=14).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(block, min_size=1, max_size=8), st.lists(st.integers(0, 20), max_size=6),
       st.lists(st.sampled_from(["p", "head", "list", "code"]), min_size=14, max_size=14))
def test_find_repeats_answers_like_the_first_implementation(
    texts: list[str], copies: list[int], kinds: list[str]
) -> None:
    # Re-print some blocks, alone or joined to the next, so that repeats occur.
    texts = texts + [" ".join(texts[c % len(texts):c % len(texts) + 1 + c % 2]) for c in copies]
    kinds = kinds[: len(texts)]
    fast = find_repeats(texts, kinds, "deux trois")
    with patch("ingest.clean.repeats.KeptBlocks", _FirstKept):
        assert find_repeats(texts, kinds, "deux trois") == fast


def _first_containers(tokens: list[list[str]], seqs: list[list[Shingle]]) -> list[int]:
    """``find_containers`` as first written: every block >= 30 words is tried against an
    index of every n-gram. The reference for the one restricted to shared n-grams."""
    sets = [set(s) for s in seqs]
    found = []
    for i, whole in enumerate(sets):
        if len(tokens[i]) < MIN_CONTAINER_WORDS:
            continue
        others = sorted({j for j, s in enumerate(sets) if j != i and s & whole})
        covered: set[Shingle] = set()
        members = 0
        for j in others:
            inside = len(sets[j]) < len(whole) and longest_run(seqs[j], whole) >= 0.8
            if inside and len(sets[j] & covered) < 0.5 * len(sets[j]):
                covered |= sets[j]
                members += 1
        if members >= 2 and len(whole & covered) >= 0.8 * len(whole):
            found.append(i)
    return found


# A larger vocabulary than VOCAB, so that distinct blocks rarely share n-grams by chance.
long_block = st.lists(st.sampled_from([f"w{k}" for k in range(30)]),
                      min_size=8, max_size=24).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(long_block, min_size=2, max_size=8),
       st.lists(st.tuples(st.integers(0, 7), st.integers(2, 4)), min_size=1, max_size=4),
       st.lists(st.integers(0, 30), max_size=3))
def test_containers_answer_like_the_first_implementation(
    texts: list[str], joins: list[tuple[int, int]], cuts: list[int]
) -> None:
    # Flattened copies: runs of 2-4 consecutive blocks joined, some cut short at the end.
    copies = [" ".join(texts[s % len(texts):s % len(texts) + n]) for s, n in joins]
    copies += [" ".join(copies[0].split()[:-c]) for c in cuts if c]
    tokens = [words(t) for t in texts + copies]
    seqs = [shingle_list(t) for t in tokens]
    sets = [set(s) for s in seqs]
    found = find_containers(tokens, seqs, sets, shared_shingles(sets), {})
    assert found == _first_containers(tokens, seqs)


def test_shared_ngrams_are_those_in_two_blocks() -> None:
    assert shared_shingles([{1, 2, 3}, {3, 4}, {4, 5, 1}, set()]) == {1, 3, 4}
