"""The reader's dataclasses whose __init__ is written out take exactly their fields.

types.Answer says why some are written out (the mypyc build compiles a class's
own __init__, not the one dataclasses generates). A field added to the class
and not to its __init__, or a default that differs, fails here.
"""

import dataclasses
import inspect

import pytest

from votes.reading import COMPILED, bbcode, found, grammar, letters, lines, signals, types

# A value for each required parameter (the compiled build checks their types).
SAMPLES = {
    "prompt": 1,
    "start": 0,
    "end": 3,
    "numbered": True,
    "hits": (),
    "vote_phrase": "",
    "reason": "why",
    "post_id": 7,
    "author": "Anya",
    "kind": types.PostKind.BALLOT,
    "text": "1-B",
    "quotes": [],
    "_own_starts": [0],
    "_body_starts": [0],
    "doc": bbcode.scan("1-B"),
    "placed": None,
}
WRITTEN_OUT = [
    types.Answer,
    types.Flag,
    types.Reading,
    found.Found,
    grammar.LineRead,
    letters.Hit,
    lines._WriteIn,
    signals.Signals,
    bbcode.Doc,
    found.Draft,
    lines._Paragraph,
]


# The compiled build's __init__ has no Python signature to inspect; bin/check runs
# tests/reading on the plain modules as well, where this holds for both.
@pytest.mark.skipif(COMPILED, reason="inspects the plain modules' signatures")
@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_a_written_out_init_takes_the_fields_with_their_defaults(cls):
    assert cls.__dataclass_params__.init is False
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = [f for f in dataclasses.fields(cls) if f.default_factory is dataclasses.MISSING]
    assert [p.name for p in params] == [f.name for f in fields]
    for p, f in zip(params, fields, strict=True):
        expected = inspect.Parameter.empty if f.default is dataclasses.MISSING else f.default
        assert p.default == expected, f.name


@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda c: c.__name__)
def test_every_field_is_set_and_factories_give_fresh_values(cls):
    missing = dataclasses.MISSING
    required = {
        f.name: SAMPLES[f.name]
        for f in dataclasses.fields(cls)
        if f.default is missing and f.default_factory is missing
    }
    one, two = cls(**required), cls(**required)
    for f in dataclasses.fields(cls):
        value = getattr(one, f.name)  # AttributeError: a field the __init__ never set
        if f.default_factory is not dataclasses.MISSING:
            assert value == f.default_factory() and value is not getattr(two, f.name)


def test_frozen_ones_stay_frozen():
    answer = types.Answer(1, ("B",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.prompt = 2  # type: ignore[misc]
    assert dataclasses.replace(answer, prompt=2) == types.Answer(2, ("B",))
    assert hash(answer) == hash(types.Answer(1, ("B",)))
