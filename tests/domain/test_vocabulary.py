"""Stored values in plain words, from one table (issue 15)."""

from ecmbill.domain.vocabulary import (
    WORDS,
    Kind,
    Modality,
    OutreachMethod,
    OutreachOutcome,
    Role,
    Sex,
    Source,
    in_words,
)


def test_every_value_of_every_vocabulary_has_plain_words() -> None:
    for vocabulary in (Role, Modality, Kind, OutreachMethod, OutreachOutcome, Source, Sex):
        for value in vocabulary:
            assert value.value in WORDS, value


def test_in_words_says_in_person_and_not_reached_never_the_stored_value() -> None:
    assert in_words(Modality.IN_PERSON) == "In person"
    assert in_words("not_reached") == "Not reached"
    assert in_words(OutreachOutcome.NOT_REACHED) == "Not reached"
    assert in_words("837p") == "837P"
    # A value without words yet is still readable: spaces for underscores, a capital.
    assert in_words("waiting_for_plan") == "Waiting for plan"
