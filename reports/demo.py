"""Demo report numbers for seed_demo (filled in by the report-numbers work)."""


def seed_report_numbers(rng, institutions) -> str:
    """Upload realistic report numbers for a few quarters for `institutions`; return a one-line summary."""
    return ""
