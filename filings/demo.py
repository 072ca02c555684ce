"""Demo filings for seed_demo: reporting years and a realistic mix of filing states (filled in by the filings work)."""


def seed_filings(rng, institutions) -> str:
    """Create demo reporting years and filings for `institutions`; return a one-line summary for the command."""
    return ""
