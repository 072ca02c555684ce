"""What each model declares for `accounts.scoping.visible_to` (its own module, so that the accounts app's models
declare it too without importing the scoping helper that imports them)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class ScopeLookups:
    institution: str = ""  # path to the institution's primary key, e.g. "pk" or "institution"
    city: str = ""  # path to the institution's city region, e.g. "city" or "institution__city"
    owner: str = ""  # for a user's own things (exports): path to that user; only they and admins see them
    # For things addressed to a region (notices): path to a region that is the nation or a province. Everyone sees
    # the nation's; a province's is seen by its users (filers of its institutions, its officers and reviewers).
    audience: str = ""
