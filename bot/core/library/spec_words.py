"""The schema of the words files in `flows/`: client-message templates, the lexicon (commands, yes/no words,
every fixed line as a typed model) and the fact list."""

from __future__ import annotations

import string
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.core.library.spec_base import Spec as _Spec
from bot.core.library.spec_base import ok as _ok
from bot.core.library.spec_base import stringify


class FieldSpec(_Spec):
    ask: str
    hint: str | None = None
    label: str = ""  # what the field is called in the bot's lines: 宛名, 案件名, 署名 (「宛名は「…」にします。」)
    remember: bool = False  # the person's own (their name): asked once, reused on every platform
    kind: Literal["name", "title"] = "name"  # what a typed value must look like
    honorific: bool = False  # the addressee: 様 for a person, 御中 / ご担当者様 for a company
    item: bool = False  # belongs to the current item (its name in 「状況」)
    omit: bool = False  # 「名前は入れなくていい」 leaves it out: the lines that only carry it go (the signature)


class TemplateSpec(_Spec):
    title: str
    body: str
    facts: tuple[str, ...] = ()
    each: bool = False  # several people named: one message each (proposers each have their own thread)


class TemplatesSpec(_Spec):
    fields: dict[str, FieldSpec]
    placeholder: str = "〇〇"
    templates: dict[str, TemplateSpec]


TEXT_VALUES: dict[str, frozenset[str]] = {  # the values each line is formatted with
    "ask_back": frozenset({"label1", "label2"}),
    "confirm": frozenset({"where"}),
    "faq_from_text": frozenset({"text"}),
    "faq_unknown": frozenset({"where"}),
    "items_full": frozenset({"label", "max"}),
    "keep_label": frozenset({"value"}),
    "reask": frozenset({"count"}),
    "reminder_intro": frozenset({"flow", "label"}),
    "reminder_set": frozenset({"flow", "label", "when"}),
    "rename_label": frozenset({"value"}),
    "resume": frozenset({"where"}),
    "status_pending_count": frozenset({"pending", "unknown", "waiting"}),
    "understood": frozenset({"label"}),
    "understood_back": frozenset({"label"}),
    "heard": frozenset({"label"}),
    "heard_first": frozenset({"label", "name"}),
    "heard_next": frozenset({"number", "label", "name"}),
    "heard_all": frozenset({"label", "count"}),
    "fill_used": frozenset({"label", "value"}),
    "fill_each": frozenset({"value"}),
    "fill_left_out": frozenset({"label"}),
    "fill_no_previous": frozenset({"label"}),
    "readdress_label": frozenset({"value"}),
    "template_to": frozenset({"to", "title"}),
}


class TextsSpec(_Spec):
    """Every fixed line the engine and the channels say (lexicon.yaml `texts`); a missing or extra one, or a
    {placeholder} a line may not use, is an error of `flows check`."""

    # understanding
    reask: str
    reask_one: str
    understood: str
    understood_back: str
    heard: str
    heard_first: str
    heard_next: str
    heard_all: str
    ask_back: str
    faq_from_text: str
    faq_unknown: str
    faq_help: str
    unsure_reask: str
    stale_choice: str

    # reminders
    reminder_set: str
    reminder_intro: str
    reminders_stopped: str
    reminders_none: str
    reminders_group: str
    reminder_word: str
    reminder_mark: str

    # commands
    back_none: str
    back_done: str
    restarted: str
    resume: str
    erased: str
    secret: str
    help: str
    confirm: str

    # status
    status_title: str
    status_empty: str
    status_pending_count: str
    status_clear: str
    status_left: str

    # questions
    next_label: str
    next_prompt: str

    # fill-ins
    skip_label: str
    fill_type_it: str
    keep_label: str
    rename_label: str
    readdress_label: str
    left_out_value: str
    fill_personal: str
    fill_not_name: str
    fill_used: str
    fill_each: str
    fill_left_out: str
    fill_no_previous: str
    template_to: str
    items_full: str
    fill_intro: str
    template_note: str
    template_note_placeholder: str

    # channels
    too_long: str
    unsupported: str
    busy: str
    slack_not_yours: str
    group_only_dm: str
    rate_limited: str
    nav_back: str
    nav_status: str
    nav_help: str
    nav_restart: str
    more_label: str
    menu_bar: str
    webchat_title: str
    webchat_input_label: str
    webchat_placeholder: str
    webchat_send: str
    webchat_copy: str
    webchat_copied: str
    webchat_offline: str
    webchat_you: str
    webchat_bot: str
    webchat_no_script: str

    @model_validator(mode="after")
    def _placeholders(self) -> TextsSpec:
        """Each line uses only the values the code fills in (「{count}」 in reask, …)."""
        problems = []
        for name, text in self.model_dump().items():
            used = {field for _, field, _, _ in string.Formatter().parse(text) if field}
            if used - TEXT_VALUES.get(name, frozenset()):
                problems.append(
                    f"texts.{name}: unknown placeholder(s) {sorted(used - TEXT_VALUES.get(name, frozenset()))}"
                )
        return _ok(self, problems)


class LexiconSpec(_Spec):
    yes: tuple[str, ...]
    no: tuple[str, ...]
    commands: dict[Literal["back", "restart", "help", "status", "erase", "stop_reminders"], tuple[str, ...]]
    erase_target: str
    texts: TextsSpec
    status_marks: dict[Literal["pending", "waiting", "done", "na", "unknown"], str]
    status_words: dict[Literal["pending", "waiting", "done", "na", "unknown"], str]
    unsure: tuple[str, ...] = ()  # 「わからない」…: never read as a yes/no answer
    greetings: tuple[str, ...] = ()  # 「こんにちは」「ありがとう」: show the question again, no re-ask line
    fill_suffixes: tuple[str, ...] = ()  # honorifics taken off typed names: 様, さん, 御中 …
    fill_endings: tuple[str, ...] = ()  # what is said after a typed name or title: です, っす, と申します …
    same_words: tuple[str, ...] = ()  # typed at a fill-in asked before: the previous value (「同じで」)
    omit_words: tuple[str, ...] = ()  # typed at a field that may be left out: leave it out (「署名なし」)
    restart_target: str | None = None  # confirmation asked before 「最初から」 wipes answers
    undo: tuple[str, ...] = ()  # 「違う」: right after the bot said what it understood, undo that answer
    skip_words: tuple[str, ...] = ()  # typed at a fill-in: leave it empty (〇〇)
    # units a number typed alone may stand for (「1」 at a count may be 1件); with any other unit (円) a bare
    # number is the button's number
    bare_number_units: tuple[str, ...] = ()
    next_words: tuple[str, ...] = ()  # consent typed at a screen with a lone 「次へ」: move on
    # words people use for a word of the flows (Rasa's entity synonyms): a reply saying 「引き出す」 is read
    # as if it said 「出金」 too; canonical word → its synonyms
    synonyms: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    _texts = field_validator(
        *("yes", "no", "unsure", "greetings", "fill_suffixes", "fill_endings", "same_words", "omit_words", "undo"),
        *("skip_words", "bare_number_units", "next_words"),
        mode="before",
    )(lambda cls, v: stringify(v))


class FactSpec(_Spec):
    summary: str
    sources: tuple[str, ...] = ()
    single_source: bool = False
    # where to confirm this fact: the help page it is about (unset: the flow's `confirm`, e.g. 「退会について」).
    # A state teaching a single-source fact, or a fact with its own page, ends with that pointer.
    confirm: str | None = None


class FactsSpec(_Spec):
    facts: dict[str, FactSpec]
