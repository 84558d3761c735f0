"""outreach: recipient lists to official letters (công văn), approved by staff, delivered by e-mail."""

__version__ = "0.1.0"
