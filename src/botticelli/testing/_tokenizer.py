"""The tiny model's byte-level BPE vocabulary: every byte, a few English merges, chat control tokens.

The vocabulary is fixed (it does not depend on the seed) so that the same text always
tokenizes the same way, whatever weights the model was written with.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache

__all__ = ["BOS_TOKEN", "EOS_TOKEN", "IM_START_TOKEN", "TinyVocab", "build_vocab"]

# These are vocabulary tokens, not credentials (hence the S105 waivers).
BOS_TOKEN = "<|begin_of_text|>"  # noqa: S105
IM_START_TOKEN = "<|im_start|>"  # noqa: S105
EOS_TOKEN = "<|im_end|>"  # noqa: S105

# GGUF token types (gguf.TokenType); spelled out so this module does not need the gguf package.
_NORMAL = 1
_CONTROL = 3

# Frequent English letter pairs; merging them keeps the vocabulary a few hundred tokens
# while still exercising real BPE merges in every engine's tokenizer.
_PAIRS = (
    "th", "he", "in", "er", "an", "re", "on", "at", "en", "nd", "ti", "es", "or", "te",
    "of", "ed", "is", "it", "al", "ar", "st", "to", "nt", "ng", "se", "ha", "as", "ou",
    "io", "le", "ve", "co", "me", "de", "hi", "ri", "ro", "ic", "ne", "ea",
)  # fmt: skip
# Longer pieces built from tokens that exist by the time their merge is listed.
_LONGER = (("th", "e"), ("in", "g"), (" t", "he"), (" a", "nd"), (" o", "f"), (" t", "o"), (" i", "n"))


@cache
def _byte_to_char() -> dict[int, str]:
    """Map each byte to the printable character that stands for it in byte-level BPE.

    Bytes that are already visible characters keep their own code point; the others
    (control bytes, space, and a few Latin-1 gaps) are shifted past U+0100 in byte order,
    which is the convention GPT-2 introduced and every engine's byte-level BPE expects.
    """
    visible = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in visible}
    shift = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shift)
            shift += 1
    return mapping


def _encode_piece(text: str) -> str:
    table = _byte_to_char()
    return "".join(table[b] for b in text.encode("utf-8"))


@dataclass(frozen=True)
class TinyVocab:
    """A complete byte-level BPE vocabulary as GGUF stores it.

    Attributes:
        tokens: Token strings, indexed by id (bytes spelled with the byte-level alphabet).
        token_types: The GGUF token type of each token (normal or control).
        merges: BPE merges in priority order, each ``"left right"``.
        printable: For each token, whether it decodes to printable ASCII only.
        bos_id: Id of the beginning-of-text token.
        eos_id: Id of the end-of-turn token, which ends generation.
    """

    tokens: tuple[str, ...]
    token_types: tuple[int, ...]
    merges: tuple[str, ...]
    printable: tuple[bool, ...]
    bos_id: int
    eos_id: int

    def __len__(self) -> int:
        return len(self.tokens)


def _merge_pairs() -> list[tuple[str, str]]:
    pairs = [(" ", letter) for letter in string.ascii_lowercase]
    pairs += [(pair[0], pair[1]) for pair in _PAIRS]
    pairs += list(_LONGER)
    return pairs


@cache
def build_vocab() -> TinyVocab:
    """Build the tiny model's vocabulary (the same on every call).

    Returns:
        The vocabulary: 256 byte tokens, the merged tokens, then three control tokens.

    Examples:
        >>> vocab = build_vocab()
        >>> vocab.tokens[vocab.eos_id], len(vocab) > 256
        ('<|im_end|>', True)
    """
    table = _byte_to_char()
    tokens = [table[b] for b in range(256)]
    printable = [32 <= b <= 126 for b in range(256)]
    known = set(tokens)
    merges: list[str] = []
    for left, right in _merge_pairs():
        left_piece, right_piece = _encode_piece(left), _encode_piece(right)
        merged = left_piece + right_piece
        merges.append(f"{left_piece} {right_piece}")
        if merged not in known:
            known.add(merged)
            tokens.append(merged)
            printable.append((left + right).isascii() and (left + right).isprintable())
    types = [_NORMAL] * len(tokens)
    specials = (BOS_TOKEN, IM_START_TOKEN, EOS_TOKEN)
    first_special = len(tokens)
    tokens += specials
    types += [_CONTROL] * len(specials)
    printable += [False] * len(specials)
    return TinyVocab(
        tokens=tuple(tokens),
        token_types=tuple(types),
        merges=tuple(merges),
        printable=tuple(printable),
        bos_id=first_special + specials.index(BOS_TOKEN),
        eos_id=first_special + specials.index(EOS_TOKEN),
    )
