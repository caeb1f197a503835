from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from core.compiled import CompiledQuery
from core.roles import (
    UNIT_STAFF,
    Role,  # noqa: F401  (re-exported: the field's choices)
)


class RoleUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)

    def get(self, *args, **kwargs):
        """`get(pk=<int>)`, the call by which Django's ModelBackend loads a session's user on every signed-in request,
        runs from SQL compiled once (the ORM took longer to build it than the database to run it); the same row,
        the same instance, the same DoesNotExist. Every other call is the ORM's, and so is every related manager's
        (a subclass of this one, which filters on its relation: platform.liaisons.get(pk=...))."""
        if (type(self) is not RoleUserManager or self.model is not User or args or len(kwargs) != 1
                or type(kwargs.get("pk")) is not int or self._db is not None):
            return super().get(*args, **kwargs)
        found = _USER_BY_PK.instances(self.model, kwargs["pk"])
        if not found:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        return found[0]


_USER_BY_PK = CompiledQuery(lambda pk: User.objects.filter(pk=pk).order_by()[:2])


class User(AbstractUser):
    """A person (or a platform's integration) with exactly one role.

    A liaison belongs to exactly one platform and sees only that platform's referrals; the other roles belong
    to none.
    """

    role = models.CharField(max_length=16, choices=Role.choices)
    platform = models.ForeignKey(
        "platforms.Platform", null=True, blank=True, on_delete=models.PROTECT, related_name="liaisons"
    )

    # Evidence previews are blurred and greyscale unless the user chooses otherwise (wellbeing of analysts).
    reveal_previews = models.BooleanField(default=False)
    # Urgent notifications (threat to life, overdue removal order, dead letter) are also emailed (notifications/).
    email_urgent_notifications = models.BooleanField(default=False)

    objects = RoleUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="liaison_has_exactly_one_platform",
                condition=(models.Q(role="liaison", platform__isnull=False) | ~models.Q(role="liaison"))
                & (models.Q(role="liaison") | models.Q(platform__isnull=True)),
            )
        ]

    def clean(self):
        super().clean()
        if self.role == Role.LIAISON and self.platform_id is None:
            raise ValidationError({"platform": "A liaison must belong to a platform."})
        if self.role != Role.LIAISON and self.platform_id is not None:
            raise ValidationError({"platform": "Only liaisons belong to a platform."})

    @property
    def is_analyst(self) -> bool:
        return self.role == Role.ANALYST

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_liaison(self) -> bool:
        return self.role == Role.LIAISON

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_unit_staff(self) -> bool:
        """Analysts, supervisors and admins: the unit's own people, who may see every platform's data."""
        return self.role in UNIT_STAFF


class UserAPIKey(AbstractAPIKey):
    """A hashed, prefixed, expiring, revocable API key that acts with its user's role."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
