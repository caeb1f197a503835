"""`python manage.py audit_checkpoint`: seal pending audit events and write a signed checkpoint of the chain's head
now (beat does it every AUDIT_CHECKPOINT_SECONDS)."""

from django.core.management.base import BaseCommand

from audit.checkpoints import checkpoint_write


class Command(BaseCommand):
    help = "Seal pending audit events and write a signed checkpoint of the chain's head."

    def handle(self, *args, **options):
        checkpoint = checkpoint_write()
        if checkpoint is None:
            self.stdout.write("No new audit events since the last checkpoint: nothing written.")
        else:
            self.stdout.write(f"Checkpoint written at event {checkpoint.seq}: {checkpoint.hash} "
                              f"(signature {checkpoint.signature[:16]}…)")
