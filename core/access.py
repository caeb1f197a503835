"""Who may open a page, checked on the server for every view; and how domain errors reach the page."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from core.errors import DomainError
from core.roles import LOGGERS, REFERRAL_READERS, UNIT_STAFF, has_role  # noqa: F401  (the sets views name)


def role_required(*roles: str):
    """Anonymous → the login page (then back here); signed in with another role → the 403 page."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_active or not has_role(user, roles):
                raise PermissionDenied("Your role does not allow this page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def show_domain_error(request, exc: DomainError, form=None) -> None:
    """Put a workflow error on the page: field messages onto the form's fields, the rest as a page message."""
    unplaced = []
    for field, errors in exc.field_errors.items():
        for error in errors if isinstance(errors, list | tuple) else [errors]:
            if form is not None and field in form.fields:
                form.add_error(field, str(error))
            else:
                unplaced.append(str(error))
    if form is not None and exc.field_errors and not unplaced:
        form.add_error(None, exc.message)
        return
    text = exc.message if not unplaced else f"{exc.message} {' '.join(unplaced)}"
    messages.error(request, text)
