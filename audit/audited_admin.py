"""Admin changes go into the audit trail: the admin is not a side door around it.

`AuditedAdmin` (for a ModelAdmin) and `AuditedInline` (for its inlines) write one AuditEvent per object that an
admin form creates, changes or deletes — `admin.<name>.created|changed|deleted`, actor the signed-in admin, the
changed fields before and after — in the transaction of the change (the admin's views are atomic; the methods
here open a savepoint too, for the changelist's delete action). Deleting also records every audited object the
deletion cascades to (a platform's domains and contact points, a user's API keys).

Secrets never reach the trail: a field named in `audit_secret_fields`, or whose name contains "secret",
"password", "hashed" or "token", is shown as "<set>" / "" and, when it changed, as "<changed>".
"""

import datetime
import decimal
import uuid
from dataclasses import dataclass

from django.db import router, transaction
from django.db.models.deletion import Collector

from audit import chain as audit

SECRET_WORDS = ("secret", "password", "hashed", "token")
SET, CHANGED = "<set>", "<changed>"


@dataclass(frozen=True)
class AuditSpec:
    name: str
    secret_fields: frozenset
    ignore_fields: frozenset
    object_id: str = "pk"

    def is_secret(self, field: str) -> bool:
        return field in self.secret_fields or any(word in field for word in SECRET_WORDS)


_SPECS: dict = {}  # model → AuditSpec, filled as the audited admins are built


def spec_for(model) -> AuditSpec:
    return _SPECS.get(model) or AuditSpec(model._meta.model_name, frozenset(), frozenset())


def _plain(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.time):
        # To the second, as the admin's forms edit them: a save that keeps the value is no change.
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def snapshot(obj, spec: AuditSpec) -> dict:
    """The object's recorded fields, raw (secrets are hidden later, by `_shown`); many-to-many as sorted names."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in spec.ignore_fields or getattr(field, "auto_now", False) \
                or getattr(field, "auto_now_add", False):
            continue
        data[field.name] = _plain(field.value_from_object(obj))
    if obj.pk is not None and not obj._state.adding:
        for field in obj._meta.many_to_many:
            if field.name not in spec.ignore_fields:
                data[field.name] = sorted(str(o) for o in getattr(obj, field.name).select_related())
    return data


def _shown(spec: AuditSpec, field: str, value, changed: bool = False):
    if not spec.is_secret(field):
        return value
    return (CHANGED if changed else SET) if value else ""


def _entry(request, spec: AuditSpec, obj, action: str, *, object_id=None, before=None, after=None) -> dict:
    return {"actor": request.user, "verb": f"admin.{spec.name}.{action}", "object_type": spec.name,
            "object_id": object_id if object_id is not None else getattr(obj, spec.object_id),
            "before": before, "after": after}


def created_entry(request, obj) -> dict:
    spec = spec_for(type(obj))
    after = {k: _shown(spec, k, v) for k, v in snapshot(obj, spec).items()}
    return _entry(request, spec, obj, "created", after=after)


def changed_entry(request, obj, before: dict) -> dict | None:
    """The fields that differ from `before` (a snapshot), or None when nothing did."""
    spec = spec_for(type(obj))
    after = snapshot(obj, spec)
    keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
    if not keys:
        return None
    return _entry(request, spec, obj, "changed", before={k: _shown(spec, k, before.get(k)) for k in keys},
                  after={k: _shown(spec, k, after.get(k), changed=True) for k in keys})


def deleted_entries(request, objs) -> list[dict]:
    """One `deleted` entry for each object and each audited object its deletion cascades to; call before deleting."""
    objs = list(objs)
    if not objs:
        return []
    collector = Collector(using=router.db_for_write(type(objs[0])))
    collector.collect(objs)
    seen, ordered = set(), list(objs)
    for model, instances in collector.data.items():
        ordered += [i for i in instances if model in _SPECS]
    for qs in collector.fast_deletes:
        if qs.model in _SPECS:
            ordered += list(qs)
    entries = []
    for obj in ordered:
        key = (type(obj), obj.pk)
        if key in seen:
            continue
        seen.add(key)
        spec = spec_for(type(obj))
        entries.append(_entry(request, spec, obj, "deleted",
                              before={k: _shown(spec, k, v) for k, v in snapshot(obj, spec).items()}))
    return entries


class _AuditedBase:
    audit_name: str | None = None  # the verb's and object_type's name; the model's name by default
    audit_secret_fields: tuple = ()
    audit_ignore_fields: tuple = ()
    audit_object_id: str = "pk"  # the attribute recorded as object_id

    @classmethod
    def _register_spec(cls, model) -> None:
        _SPECS[model] = AuditSpec(cls.audit_name or model._meta.model_name, frozenset(cls.audit_secret_fields),
                                  frozenset(cls.audit_ignore_fields), cls.audit_object_id)


class AuditedInline(_AuditedBase):
    """Mix into an InlineModelAdmin: its objects' spec; the parent AuditedAdmin writes their events."""

    def __init__(self, parent_model, admin_site):
        super().__init__(parent_model, admin_site)
        self._register_spec(self.model)


class AuditedAdmin(_AuditedBase):
    """Mix into a ModelAdmin (before it in the bases): every add, change and delete is audited."""

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        self._register_spec(model)
        for inline in self.inlines:  # known before any inline is built: a cascade may reach their objects
            if issubclass(inline, AuditedInline):
                inline._register_spec(inline.model)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            original = type(obj)._default_manager.filter(pk=obj.pk).first() if change and obj.pk else None
            form._audit_before = snapshot(original, spec_for(type(obj))) if original is not None else None
            form._audit_inline_entries = []
            super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        with transaction.atomic():
            spec = spec_for(formset.model)
            before, pks = {}, {}
            for inline_form in formset.initial_forms:
                pk = inline_form.instance.pk
                original = formset.model._default_manager.filter(pk=pk).first() if pk is not None else None
                if original is not None:
                    before[pk] = snapshot(original, spec)
                    pks[id(inline_form.instance)] = pk
            super().save_formset(request, form, formset, change)
            entries = [created_entry(request, obj) for obj in formset.new_objects]
            entries += [e for obj, _ in formset.changed_objects
                        if (e := changed_entry(request, obj, before.get(obj.pk, {})))]
            for obj in formset.deleted_objects:
                pk = pks.get(id(obj))
                entries.append(_entry(request, spec, obj, "deleted", object_id=pk if spec.object_id == "pk" else None,
                                      before={k: _shown(spec, k, v) for k, v in before.get(pk, {}).items()}))
            if hasattr(form, "_audit_inline_entries"):
                form._audit_inline_entries += entries  # written after the parent's own entry, in save_related
            elif entries:
                audit.record_many(entries)

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            obj = form.instance
            before = getattr(form, "_audit_before", None)
            entry = created_entry(request, obj) if before is None else changed_entry(request, obj, before)
            entries = ([entry] if entry else []) + getattr(form, "_audit_inline_entries", [])
            if entries:
                audit.record_many(entries)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record_many(deleted_entries(request, [obj]))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            entries = deleted_entries(request, queryset)
            if entries:
                audit.record_many(entries)
            super().delete_queryset(request, queryset)
