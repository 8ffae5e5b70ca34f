"""Answers as they come in the wild (SPEC.md): relays' envelopes, numbers as
strings of digits, get answers without an id, tasks without timestamps,
placeholder URLs, a Chanjing token said to be expired already. Each through
a real mount of the fake API serving that shape (<p>.shape), with its
request counters checked."""
from harness import Mount, fake


def test_chanjing_token_said_expired_is_used_until_refused():
    f = fake({"chanjing": {"token_expire_in_past": True, "count": 8}})
    m = Mount(f, providers=("chanjing",))
    tasks = f.tasks("chanjing")
    assert m.ls("chanjing") == sorted(t["unique_id"] for t in tasks)
    for i in range(3):  # three gets of ids the API does not know
        assert m.error_of("cat", f"chanjing/00000000-0000-4000-8000-00000000000{i}/status")
    c = f.counters()
    assert c.get("chanjing.list", 0) == 2 and c.get("chanjing.get", 0) == 3, c
    assert c.get("chanjing.token", 0) == 1, f"{c.get('chanjing.token')} token requests"
    assert "expire_in is past" in m.log()
    # refused at last (10401): one new token, then it serves again
    f.invalidate_token()
    m.hup()
    assert m.ls("chanjing") == sorted(t["unique_id"] for t in tasks)
    c = f.counters()
    assert c.get("chanjing.token", 0) == 2, c
    assert c.get("chanjing.list.code.10401", 0) == 1, c
