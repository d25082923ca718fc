"""Chapter headings and prompt kinds, said once (chapters/labels.py).

A chapter titled the forum way ("Chapter Three: The Hundred Days") is shown as
titled; one titled "The Crossing" is shown as "Chapter 3: The Crossing". A
prompt whose text says "(choose any)" gets no second "(choose any)".
"""

import pytest

from chapters.labels import heading, kind_note, names_itself


@pytest.mark.parametrize(
    ("number", "title", "expected"),
    [
        (3, "The Crossing", "Chapter 3: The Crossing"),
        (
            3,
            "Chapter Three: The Hundred Days (April - June 1953)",
            "Chapter Three: The Hundred Days (April - June 1953)",
        ),
        (2, "Chapter Two: Beria's Final Gamble", "Chapter Two: Beria's Final Gamble"),
        (4, "Chapter 4", "Chapter 4"),  # a new draft's title
        (4, "chapter 4 - the pass", "chapter 4 - the pass"),
        (21, "Chapter Twenty-One: Snow", "Chapter Twenty-One: Snow"),
        (5, "Ch. 5: Ashes", "Ch. 5: Ashes"),
        (7, "Part II: The Return", "Part II: The Return"),
        (7, "Book One - Exile", "Book One - Exile"),
        (1, "Prologue", "Prologue"),
        (9, "Interlude: The Cooks", "Interlude: The Cooks"),
        (3, "Chapters of my life", "Chapter 3: Chapters of my life"),
        (3, "Particle Storm", "Chapter 3: Particle Storm"),
        (3, "Acting Up", "Chapter 3: Acting Up"),
        (3, "The Chapter Three Affair", "Chapter 3: The Chapter Three Affair"),
        (3, "  Spaced  ", "Chapter 3: Spaced"),
        (3, "", "Chapter 3"),
        (None, "Orphan", "Orphan"),
    ],
)
def test_it_names_a_chapter_once(number, title, expected):
    assert heading(number, title) == expected


def test_it_knows_a_title_that_names_its_chapter():
    assert names_itself("Chapter Three: The Hundred Days")
    assert not names_itself("The Hundred Days")


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("single", "Where do we march?", "(pick one)"),
        ("multi", "Which ministries should be reorganised first?", "(choose any)"),
        ("ranked", "Our diplomatic priorities", "(rank in order)"),
        ("write_in", "Name the first decree.", "(write-in)"),
        ("multi", "Which ministries? (choose any)", ""),
        ("multi", "Which ministries? (Choose ANY)", ""),
        ("multi", "Pick any of these", ""),
        ("multi", "Tick all that apply", ""),
        ("single", "Pick one: north or south?", ""),
        ("ranked", "Order them (ranked)", ""),
        ("write_in", "Name it (write-in)", ""),
        ("write_in", "Write in the name of the ship", ""),
        ("write_in", "Please write down initiatives", "(write-in)"),
        ("single", "A rewrite-in-progress", "(pick one)"),
        ("lines", "Mark your lines", "([x] lines)"),
        ("unknown", "Anything", ""),
    ],
)
def test_it_notes_a_prompts_kind_unless_its_text_says_it(kind, text, expected):
    assert kind_note(kind, text) == expected
