"""Text to integers: ``pad`` is ``keras.utils.pad_sequences``, tokenizer, vocabulary, stats."""

from __future__ import annotations

import numpy as np
import pytest

from sweep.data._vectorize import OOV, PAD, build_vocabulary, encode, pad, split_stats, tokenize


def _ragged(rng: np.random.Generator, maxlen: int) -> list[list[int]]:
    """Sequences shorter than, equal to and longer than maxlen, including empty ones."""
    lengths = [0, 0, 1, maxlen - 1, maxlen, maxlen + 1, 3 * maxlen,
               *rng.integers(0, 4 * maxlen, 40)]
    return [list(rng.integers(1, 1000, size=max(int(n), 0))) for n in lengths]


@pytest.mark.parametrize("maxlen", [1, 2, 7, 50])
@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_equals_keras_pad_sequences(maxlen: int, padding: str, truncating: str) -> None:
    """pad() gives exactly keras.utils.pad_sequences' array, values, shape and dtype."""
    import keras

    rng = np.random.default_rng(maxlen * 4 + len(padding) + 2 * len(truncating))
    sequences = _ragged(rng, maxlen)
    ours = pad(sequences, maxlen, padding, truncating)
    theirs = keras.utils.pad_sequences(sequences, maxlen=maxlen, padding=padding,
                                       truncating=truncating)
    assert ours.shape == theirs.shape == (len(sequences), maxlen)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_semantics_by_hand() -> None:
    """A worked example: where zeros go and which end a long sequence loses."""
    sequences = [[1, 2, 3, 4, 5], [6, 7], []]
    np.testing.assert_array_equal(pad(sequences, 3, "pre", "pre"),
                                  [[3, 4, 5], [0, 6, 7], [0, 0, 0]])
    np.testing.assert_array_equal(pad(sequences, 3, "post", "post"),
                                  [[1, 2, 3], [6, 7, 0], [0, 0, 0]])
    np.testing.assert_array_equal(pad(sequences, 3, "post", "pre"),
                                  [[3, 4, 5], [6, 7, 0], [0, 0, 0]])


def test_pad_of_no_sequences_has_the_right_shape() -> None:
    """An empty split still yields a (0, maxlen) int32 array."""
    out = pad([], 5, "post", "pre")
    assert out.shape == (0, 5) and out.dtype == np.int32


def test_tokenize_lowercases_and_removes_html_line_breaks() -> None:
    """IMDB's ``<br />`` tags vanish (no 'br' token) and words are lower-cased."""
    text = "Great MOVIE!<br /><br />I loved it.<BR/>Ten<br>out of 10 - don't miss it"
    assert tokenize(text) == ["great", "movie", "i", "loved", "it", "ten", "out", "of", "10",
                              "don't", "miss", "it"]
    assert "br" not in tokenize("a<br />b<br/>c<br >d")
    assert tokenize("a<br />b") == ["a", "b"]


def test_tokenize_keeps_the_word_br_when_it_is_not_a_tag() -> None:
    """Only the tag is removed, not the letters b, r where they form words."""
    assert tokenize("brr, a BR line; bread") == ["brr", "a", "br", "line", "bread"]


def test_tokenize_of_empty_and_punctuation_only_text() -> None:
    """No words, no tokens."""
    assert tokenize("") == []
    assert tokenize("<br /> ... !!! <br />") == []


def test_vocabulary_caps_at_vocab_size_minus_two_and_starts_at_two() -> None:
    """Index 0 pads, 1 is OOV: the learned words take ids 2 .. vocab_size - 1, by frequency."""
    docs = [["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d"] * 2 + ["e"]]
    vocabulary = build_vocabulary(docs, vocab_size=5)
    assert vocabulary == {"a": 2, "b": 3, "c": 4}
    assert max(vocabulary.values()) == 5 - 1
    assert PAD == 0 and OOV == 1


def test_vocabulary_smaller_than_the_cap_keeps_every_word() -> None:
    """With few distinct words, all of them are learned, densely numbered from 2."""
    vocabulary = build_vocabulary([["x", "y"], ["y"]], vocab_size=1000)
    assert vocabulary == {"y": 2, "x": 3}


def test_vocabulary_ties_are_broken_alphabetically_whatever_the_order() -> None:
    """Equal counts rank alphabetically, so the ids do not depend on document order."""
    docs = [["pear", "apple", "fig"], ["fig", "kiwi"], ["kiwi", "pear", "apple"]]
    first = build_vocabulary(docs, vocab_size=4)
    assert first == {"apple": 2, "fig": 3}
    rng = np.random.default_rng(0)
    for _ in range(5):
        shuffled = [list(rng.permutation(doc)) for doc in rng.permutation(np.array(docs, object))]
        assert build_vocabulary(shuffled, vocab_size=4) == first


def test_encode_maps_unknown_words_to_oov() -> None:
    """Known words get their id, every other word becomes 1; no id is ever 0."""
    vocabulary = build_vocabulary([["good", "good", "film"]], vocab_size=3)
    assert vocabulary == {"good": 2}
    assert encode(["good", "film", "bad", "good"], vocabulary) == [2, OOV, OOV, 2]
    assert encode([], vocabulary) == []


def test_split_stats_by_hand() -> None:
    """Mean length, share truncated (longer than maxlen), mean share of padded timesteps."""
    stats = split_stats(np.array([1, 5, 10, 0]), maxlen=5)
    assert stats == pytest.approx({"n": 4, "mean_length": 4.0, "truncated_share": 0.25,
                                   "padded_share": (4 / 5 + 0 + 0 + 1) / 4})
    assert split_stats(np.array([], dtype=int), 5) == {
        "n": 0, "mean_length": 0.0, "truncated_share": 0.0, "padded_share": 0.0}


def test_split_stats_padded_share_matches_the_padded_array() -> None:
    """padded_share is the share of zeros pad() actually writes."""
    rng = np.random.default_rng(3)
    sequences = [list(rng.integers(1, 50, size=int(n))) for n in rng.integers(0, 40, 200)]
    lengths = np.array([len(s) for s in sequences])
    for padding in ("pre", "post"):
        padded = pad(sequences, 20, padding, "pre")
        stats = split_stats(lengths, 20)
        assert stats["padded_share"] == pytest.approx(float(np.mean(padded == PAD)))
        assert stats["truncated_share"] == pytest.approx(float(np.mean(lengths > 20)))

