"""Localised text: Swedish always, English optional; a missing translation falls back to Swedish."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.content.languages import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Text"]


@dataclass(frozen=True)
class Text:
    """One piece of text in several languages. `sv` is required by validation; others are optional."""

    values: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, **values: str) -> Text:
        return cls(tuple((lang, value) for lang, value in values.items() if value))

    def in_lang(self, lang: str) -> str:
        return self.resolve(lang)[0]

    def resolve(self, lang: str) -> tuple[str, str]:
        """The text in `lang`, else Swedish; returns (text, language actually used)."""
        found = dict(self.values)
        if found.get(lang):
            return found[lang], lang
        return found.get(DEFAULT_LANGUAGE, ""), DEFAULT_LANGUAGE

    def has(self, lang: str) -> bool:
        return bool(dict(self.values).get(lang))

    def __bool__(self) -> bool:
        return any(value.strip() for _, value in self.values)
