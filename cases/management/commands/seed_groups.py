"""Seed the managed list of groups/organisations with a few well-known media outlets. Idempotent: a group that
exists already (by name) is left as it is, so an administrator's edits (aliases, deactivation) survive a rerun."""

from django.core.management.base import BaseCommand
from django.db import transaction

from cases.models import Group

GROUPS = [
    ("Amaq News Agency", "Amaq\nA'maq\nوكالة أعماق"),
    ("al-Bayan", "Al Bayan Radio\nAl-Bayan\nإذاعة البيان"),
    ("Nashir", "Nashir News Agency\nناشر"),
    ("Halumu", "Halummu\nHalumu Media"),
]


class Command(BaseCommand):
    help = "Create the starting list of groups/organisations (idempotent)."

    def handle(self, *args, **options):
        created = 0
        with transaction.atomic():
            for name, aliases in GROUPS:
                _, was_created = Group.objects.get_or_create(name=name, defaults={"aliases": aliases})
                created += was_created
        if options["verbosity"]:
            self.stdout.write(f"Groups: {created} created, {len(GROUPS) - created} already there.")
