"""The README's configuration reference names every setting there is."""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from whistle.config import Config

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = README.read_text(encoding="utf-8")
    reference = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [f"WHISTLE_{f.name.upper()}" for f in fields(Config)
               if f"`WHISTLE_{f.name.upper()}`" not in reference]
    assert not missing, f"README 'Configuration' lacks {missing}"
    assert "`WHISTLE_PUBLIC_URL`" in reference  # read by notify.py outside Config
