# Models arrive with the review feature issue.
