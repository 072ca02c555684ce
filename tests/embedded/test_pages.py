"""Every page the run command shows works on SQLite: each demo account follows the links from its home page (breadth
first, a bounded number of pages) and none answers with a server error."""
import re
from collections import deque

import pytest

LINK = re.compile(r'href="(/[^"#]*)"')
NOT_PAGES = ("/static/", "/media/", "/accounts/logout", "/admin/logout")
SLOW = "/pdf/"  # the printed PDFs have their own tests
PAGES_PER_ACCOUNT = 80


@pytest.mark.parametrize("username", ["filer", "city", "province", "samr", "admin"])
def test_every_linked_page_answers_without_a_server_error(login, username):
    client = login(username)
    client.raise_request_exception = False
    seen, queue, failures = set(), deque(["/"]), []
    while queue and len(seen) < PAGES_PER_ACCOUNT:
        url = queue.popleft()
        if url in seen or url.startswith(NOT_PAGES) or SLOW in url:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 500:
            failures.append((url, response.status_code))
        elif response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
            queue.extend(link.replace("&amp;", "&") for link in LINK.findall(response.content.decode()))
    assert len(seen) > 5 and not failures, failures
