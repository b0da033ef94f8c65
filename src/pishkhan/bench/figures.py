"""What every bench's figures share: `--json` prints them as one object, floats to 3 decimals."""

from dataclasses import asdict


class Figures:
    """Base of a bench's figures dataclass."""

    def as_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}
