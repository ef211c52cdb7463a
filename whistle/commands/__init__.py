"""Sub-commands of ``whistle``: each module exposes ``register(cli: click.Group) -> None``."""
