"""Built-in SMS providers. Importing this package registers them."""

from .console import plugin as console_plugin  # noqa: F401
from .file import plugin as file_plugin  # noqa: F401
from .kavenegar import plugin as kavenegar_plugin  # noqa: F401
