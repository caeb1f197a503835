"""System checks of the audit trail's configuration."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def audit_signing_key(app_configs, **kwargs):
    if settings.AUDIT_SIGNING_KEY_FROM_ENV:
        return []
    return [Warning("AUDIT_SIGNING_KEY is not set: audit checkpoints are signed with a key derived from SECRET_KEY.",
                    hint="Set AUDIT_SIGNING_KEY to a long random value kept apart from SECRET_KEY "
                         "(docs/operations.md, 'Audit trail').", id="audit.W001")]
