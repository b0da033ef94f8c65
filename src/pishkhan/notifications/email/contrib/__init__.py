"""Built-in email providers. Importing this package registers them."""

from .django_mail import plugin as django_mail_plugin  # noqa: F401
from .file import plugin as file_plugin  # noqa: F401
