import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError

from quest.models import new_submission_token

User = get_user_model()

# What a browser's decoder leaves where a request held bytes that are not UTF-8.
REPLACEMENT_CHARACTER = "\ufffd"


def _check_readable(value: str) -> None:
    if REPLACEMENT_CHARACTER in value:
        raise ValidationError(
            "Part of this text could not be read (it was not valid UTF-8). "
            "Please retype or paste it again.",
            code="invalid_encoding",
        )


class TextField(forms.CharField):
    """A CharField whose every bad-input case has a message a forum user understands.

    Every form's free text is one of these (tests/test_bad_input.py checks it),
    so text that is not valid UTF-8 or holds NUL characters is refused the
    same way wherever it comes in.

    CharField already refuses NUL characters; the message says what to do.
    Browsers send line breaks as CRLF: they are stored as plain newlines, so a post's
    length and its revisions do not depend on the browser it was typed in.
    """

    default_error_messages = {
        "null_characters_not_allowed": (
            "The text contains a NUL character, which cannot be saved. "
            "Remove it (it often comes from pasting binary data) and try again."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.validators.append(_check_readable)

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")


class SubmissionTokenField(forms.Field):
    """A posting form's hidden one-time token (quest.models.Submission).

    Not free text: a value that is no token (missing, malformed, too long) is
    read as no token rather than refused, and the form posts as before, only
    without the protection against posting twice.
    """

    widget = forms.HiddenInput
    _shape = re.compile(r"[A-Za-z0-9_.-]{1,64}")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> str:
        return value if isinstance(value, str) and self._shape.fullmatch(value) else ""


class PostingForm(forms.Form):
    """A form that posts: each render carries a new one-time token in `submission`.

    A bound form keeps the token it was sent with, so a form shown again with
    its errors and sent again is still the same submission. Pass
    `initial={"submission": token}` to show a form again after it posted.
    """

    submission = SubmissionTokenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["submission"].initial = new_submission_token()

    @property
    def submission_token(self) -> str:
        """The token sent ("" when none), once the form is valid."""
        return str(self.cleaned_data.get("submission") or "")


class PostForm(PostingForm):
    body = TextField(
        label="Message",
        # Leading spaces can matter in BBCode ([CODE]); the whole text is kept.
        strip=False,
        max_length=settings.POST_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": "Write something before posting: the message is empty.",
            "max_length": (
                f"A post can be at most {settings.POST_MAX_CHARS:,} characters long "
                "(this one has %(show_value)s). Split it into several posts."
            ),
        },
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        if not body.strip():
            raise ValidationError(
                "Write something before posting: the message is empty.", code="required"
            )
        return body


class QuestForm(forms.Form):
    title = TextField(
        max_length=200,
        error_messages={"required": "Give the quest a title."},
    )
    description = TextField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A sentence or two shown on the home page and at the top of the thread.",
    )


class AppointModeratorForm(forms.Form):
    username = TextField(
        max_length=150,
        error_messages={"required": "Enter the username of the person to appoint."},
    )

    def __init__(self, *args, quest, **kwargs):
        super().__init__(*args, **kwargs)
        self.quest = quest

    def clean_username(self):
        name = self.cleaned_data["username"].strip()
        user = User.objects.filter(username__iexact=name).first()
        if user is None:
            raise ValidationError(f"There is no user called “{name}”.", code="unknown_user")
        if user.pk == self.quest.quest_master_id:
            raise ValidationError(
                "You are this quest's quest master: you already have every power.",
                code="quest_master",
            )
        return user


class InviteMembersForm(forms.Form):
    """Usernames to invite into a private quest, one a line or separated by commas.

    Spaces do not separate: names of imported forum accounts may contain them.
    """

    MAX_NAMES = 100

    names = TextField(
        label="Usernames",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line, or separated by commas.",
        error_messages={"required": "Enter the username of at least one player to invite."},
    )

    def clean_names(self) -> list[str]:
        names = [n.strip() for n in re.split(r"[,\n]", self.cleaned_data["names"]) if n.strip()]
        if not names:
            raise ValidationError(
                "Enter the username of at least one player to invite.", code="required"
            )
        if len(names) > self.MAX_NAMES:
            raise ValidationError(
                f"Invite at most {self.MAX_NAMES} people at a time (this list has {len(names)}).",
                code="too_many",
            )
        return names


class ForumNameForm(forms.Form):
    """The forum name a player claims (quest.identities.forum_name_claim_start)."""

    name = TextField(
        label="Your name on the forum",
        max_length=150,
        help_text="As your posts in the forum thread show it.",
        error_messages={
            "required": "Enter your name on the forum, as your posts there show it.",
            "max_length": "A forum name is at most 150 characters long.",
        },
    )


class SignupForm(UserCreationForm):
    """A new account. Its name can never be a forum voter's (quest/identities.py):
    names holding "@" are kept for forum names that a local account already
    has, and a name taken in any letter case is refused, a forum name too."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    def clean_username(self):
        name = self.cleaned_data.get("username") or ""
        if "@" in name:
            raise ValidationError(
                "A username cannot contain “@”: names with it stand for people imported "
                "from forum threads. Choose a name without it.",
                code="reserved",
            )
        taken = User.objects.filter(username__iexact=name).select_related("forum_identity")
        identity = getattr(taken.first(), "forum_identity", None)
        if identity is not None:
            raise ValidationError(
                f"“{identity.name}” is a name on {identity.forum}, imported with a forum "
                "thread. If it is yours, sign up with another name, then claim it on the "
                "quest's “Your forum name” page.",
                code="forum_name",
            )
        return super().clean_username()
