"""Listings: the pages after the first fetched together, still one request
per page; tasks coming in at the head while a listing pages through lose
or double nothing; and a listing the kernel caches shows a new task within
the TTL."""
import time

from harness import Mount, fake, wait_for


def page_numbers(f):
    return sorted(int(e["path"].split("page_num=")[1].split("&")[0])
                  for e in f.log(endpoint="ark.list"))


def test_every_page_is_asked_for_once():
    f = fake({"ark": {"count": 2600}})  # 6 pages of 500
    m = Mount(f, providers=("volc",), global_extra="qps = 1000\nburst = 1000")
    names = m.ls("volc")
    assert len(names) == 2600 and len(set(names)) == 2600
    want = sorted(t["id"] for t in f.tasks("ark"))
    assert sorted(names) == want
    assert page_numbers(f) == [1, 2, 3, 4, 5, 6]
    assert f.counter("ark.get") == 0


def test_tasks_coming_in_at_the_head_meanwhile_lose_or_double_nothing():
    # each request for page 3 makes 7 new tasks first: every item moves down
    f = fake({"ark": {"count": 2600, "insert_on_page": {"page": 3, "n": 7}}})
    before = sorted(t["id"] for t in f.tasks("ark"))
    m = Mount(f, providers=("volc",), global_extra="qps = 1000\nburst = 1000")
    names = m.run("ls", "-1", "-a", "volc").stdout.split("\n")
    names = [n for n in names if n and not n.startswith(".")]
    assert len(names) == len(set(names)), "a task shown twice"
    missing = set(before) - set(names)
    assert not missing, f"{len(missing)} tasks lost, e.g. {sorted(missing)[:3]}"
    pages = page_numbers(f)
    assert 6 <= len(pages) <= 12, pages  # 2600 + 7 or 14 tasks: 6 pages, some asked again
    assert set(pages) == set(range(1, 7)), pages


def test_a_new_task_appears_within_the_ttl_in_a_cached_listing():
    f = fake({"ark": {"count": 40}})
    m = Mount(f, providers=("volc",), section_extra={"volc": "ttl = 1"})
    first = m.ls("volc")
    assert m.ls("volc") == first  # the kernel's cached listing, unchanged
    new = "cgt-20991231235959-zzzzz"
    now = int(time.time())
    f.set_task("ark", new, status="queued", created_at=now, updated_at=now)
    wait_for(lambda: new in m.ls("volc"), 10, "the new task in the listing")
    assert m.cat("volc", new, "status") == "queued\n"
    assert set(first) <= set(m.ls("volc"))
