"""The one error of the editing model: an edit (or a file it needs) refused, naming the field."""

from __future__ import annotations


class EditRefused(ValueError):
    """`field` names what was refused the way the form names it (`theme.accent`,
    `scenes.tip.duration`, `texts.video.greeting.title.it`, `edits[2].op`)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")
