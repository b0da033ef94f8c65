"""Model fields of our own.

    LazyJSONField: a JSONField whose value, when read through cases.store, is parsed on first use
    JSONText(text): JSON as read from the database, not parsed yet

Every act on a case reads the case row again under its lock, and with it the form answers — a
JSON document of several kilobytes on a real application form — though most acts never look at
them (only an outcome's condition or a fee does). cases.store puts the text on the instance as
JSONText, and the field's attribute parses it the first time it is read. Read any other way (the
ORM, a form), the value is parsed as Django parses it; set, it is kept as given.
"""

from __future__ import annotations

from django.db import models
from django.db.models.query_utils import DeferredAttribute


class JSONText:
    """JSON text (str or UTF-8 bytes) read from the database for a LazyJSONField."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"JSONText({self.text[:40]!r}…)"


class ParsedOnRead(DeferredAttribute):
    """The attribute of a LazyJSONField: JSONText in the instance's __dict__ is parsed (with the
    field's own from_db_value) on first read and replaced by the value. A data descriptor, so every
    read comes here; anything else behaves as Django's DeferredAttribute."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if type(value) is JSONText:
            value = instance.__dict__[self.field.attname] = self.field.from_db_value(value.text, None, None)
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class LazyJSONField(models.JSONField):
    """A JSONField whose value may arrive as JSONText and be parsed when first read. The same
    column as JSONField: migrations see a JSONField."""

    descriptor_class = ParsedOnRead

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs
