"""Built-in payment gateways. Importing this package registers them."""

from .sandbox import plugin as sandbox_plugin  # noqa: F401
