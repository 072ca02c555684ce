"""The public lookup's rate limit on the embedded default: no Redis, so it is counted in the local-memory cache, per
client address."""
from django.urls import reverse


def test_lookups_are_rate_limited_per_client_address_in_the_local_cache(client, settings):
    settings.REPORTS_VERIFY_PER_MINUTE = 2

    def ask(address):
        return client.get(reverse("reports:verify"), {"number": "EMB-2024-000001"}, REMOTE_ADDR=address)

    assert [ask("10.0.0.1").status_code for _ in range(3)] == [200, 200, 429]
    assert "查询过于频繁" in ask("10.0.0.1").content.decode()
    assert ask("10.0.0.2").status_code == 200  # another address has its own count
