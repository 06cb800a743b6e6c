"""Token masks: a real token shows its prefix and last four characters only, and short tokens
(the emulator's, a test's) are told apart by a fingerprint instead of by any of their text."""

from __future__ import annotations

import io
import logging
import re

import pytest

from ghsync.log import RedactingFilter, mask_token, redacting, token_fingerprint

SHORT = ["ghp_aaaa", "ghp_bbbb", "ghp_aaab", "gho_aaaa", "ghp_", "abc", "ghp_12345678"]


@pytest.mark.parametrize(
    ("token", "mask"),
    [
        ("ghp_" + "a" * 32 + "AAAA", "ghp_…AAAA"),
        ("github_pat_" + "x" * 78 + "WXYZ", "github_pat_…WXYZ"),
        ("gho_123456789", "gho_…6789"),  # nine characters after the prefix: a real length
        ("0123456789abcdef", "…cdef"),  # no known prefix: none shown
    ],
)
def test_a_real_length_token_shows_its_prefix_and_last_four_only(token: str, mask: str) -> None:
    assert mask_token(token) == mask


def test_short_tokens_are_told_apart_without_showing_any_of_their_text() -> None:
    masks = [mask_token(token) for token in SHORT]
    assert len(set(masks)) == len(SHORT)
    for token, mask in zip(SHORT, masks, strict=True):
        prefix = re.match(r"(gh[a-z]_)?", token).group(0)  # type: ignore[union-attr]
        # the prefix, then the start of the fingerprint the token's Prefect limit is named by
        assert mask == f"{prefix}…#{token_fingerprint(token)[:6]}"
        assert mask == mask_token(token)  # stable: the same token, the same mask


def test_the_log_filter_gives_each_short_token_its_own_mask() -> None:
    record = logging.LogRecord(
        "ghsync", logging.INFO, __file__, 1, "%s then %s", tuple(SHORT[:2]), None
    )
    RedactingFilter(lambda: SHORT[:2]).filter(record)
    first, then, second = record.getMessage().partition(" then ")
    assert (first, second) == (mask_token(SHORT[0]), mask_token(SHORT[1]))
    assert then and first != second


def test_while_redacting_every_handler_masks_the_secrets() -> None:
    """The root logger's handlers and those of a logger that does not propagate (as Prefect's
    run loggers' API handler does not), for records of any logger."""
    secret = "ghp_" + "s" * 32 + "SSSS"
    root, own = io.StringIO(), io.StringIO()
    root_handler, own_handler = logging.StreamHandler(root), logging.StreamHandler(own)
    isolated = logging.getLogger("test_log.isolated")
    isolated.propagate = False
    logging.getLogger().addHandler(root_handler)
    isolated.addHandler(own_handler)
    secrets = [secret]
    try:
        with redacting(lambda: secrets):
            logging.getLogger("ghsync.test").warning("token %s rejected", secret)
            isolated.warning("sent with %s", secret)
            secrets.append("ghs_renewed" + "r" * 24)  # a renewed token: masked from then on
            isolated.warning("renewed: %s", secrets[-1])
        isolated.warning("after: %s", secret)
    finally:
        logging.getLogger().removeHandler(root_handler)
        isolated.removeHandler(own_handler)
    assert root.getvalue() == f"token {mask_token(secret)} rejected\n"
    lines = own.getvalue().splitlines()
    assert lines[:2] == [f"sent with {mask_token(secret)}", f"renewed: {mask_token(secrets[-1])}"]
    assert lines[2] == f"after: {secret}"  # the block is over: no filter left behind
